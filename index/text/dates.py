"""Month and weekday names, written once: regex alternations (``MONTHS``) and the names."""

from __future__ import annotations

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = "|".join(MONTH_NAMES)  # "January|February|...": for a regex group
WEEKDAYS = "|".join(WEEKDAY_NAMES)
YEARS = r"1\d{3}|20\d{2}"  # a year a text names, 1000-2099: "1918", "2019"
# A time of day: "18:30", "8.15 am", "9 pm", "noon" (a regex alternation, like the names).
CLOCK = (
    r"\d{1,2}[:.]\d{2}(?:\s*(?:am|pm|a\.m\.|p\.m\.))?"
    r"|\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)(?![a-z])"
    r"|noon|midnight"
)
