"""Rendering: the report model as markdown, HTML or JSON (Jinja2), and one-line summaries.

``templates`` (the Jinja environment and formats), ``filters`` (the review sections' filters),
``summary`` (plain-text lines shared by the policy pack and ``costline preview``).
"""
