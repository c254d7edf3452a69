"""The operator console: sign-in, playground, domains, conversations and overview under /console.

Server-rendered pages (Jinja2, autoescaped) with htmx vendored in ``static/`` (htmx.org 2.0.11,
``dist/htmx.min.js`` of its npm package, licensed 0BSD): no build step, nothing from a CDN.
Everything a page shows also comes from the JSON admin API (``/api/admin/...``), through the
same functions, so integrators can script what operators click.
"""
