"""The web front end: Flask app factory, blueprints, templates and static files."""
