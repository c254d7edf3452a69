"""The operator console: sign-in, playground, domains, conversations and overview under /console.

Server-rendered pages (Jinja2, autoescaped) with htmx vendored in ``static/``: no build step.
Everything a page shows also comes from the JSON admin API (``/api/admin/...``), through the
same functions, so integrators can script what operators click.
"""
