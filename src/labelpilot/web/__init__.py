"""The browser front end: HTML pages, static ES modules and styles, and the vendored npm packages."""
