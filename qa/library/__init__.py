"""The user's library around the index: the documents folder and the feedback log.

folder.py      the documents folder: safe upload names, atomic saves, removal, listing
feedback.py    thumbs and corrections appended to the store's feedback.jsonl
"""
