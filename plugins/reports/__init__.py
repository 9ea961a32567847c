"""Fault analysis reports (FAR) of a run or a case, in Markdown and HTML.

``far.py`` turns run documents (schema ``medic.run/1``) and, when there is one, a case (its timeline, actions, SLA
clocks, satisfaction) into one report model; ``render.py`` renders it with Jinja2: HTML with autoescape on and
engineers' free text through markdown-it-py with raw HTML disabled, so markup in collected evidence is shown as
text and never runs. ``write.py`` picks the format from the file's suffix (``.html``/``.htm``, else Markdown).
"""
