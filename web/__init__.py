"""The web front end and the composition root: Flask app factory, blueprints, templates,
static files, and the ``catalog`` command (:mod:`web.cli`)."""
