"""The labelling app's routes, one module per part of the site; `app.create_app` includes them."""
