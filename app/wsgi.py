"""The app for a WSGI server started by name: ``gunicorn --worker-class gevent app.wsgi:application``.

The instance folder, database and proxy settings come from the environment (``OPENSPACES_*``), as
``openspaces serve`` sets them.
"""

from app import create_app

application = create_app()
