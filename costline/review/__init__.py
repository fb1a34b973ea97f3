"""The review: one plain-data report of an estimate, with the sections a PR reviewer reads.

``report`` (the report model every format shares), ``sections`` (what-if, recommendations,
baseline and budget sections added to it), ``budget`` (the budget rule), ``diff`` (changes
against a baseline), ``baseline`` (reading a baseline report or stack export).
"""
