"""Month and weekday names, written once: regex alternations (``MONTHS``) and the names."""

from __future__ import annotations

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = "|".join(MONTH_NAMES)  # "January|February|...": for a regex group
WEEKDAYS = "|".join(WEEKDAY_NAMES)
