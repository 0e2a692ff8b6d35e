"""The evaluation report a bureau publishes: one self-contained HTML page (tables and inline SVG charts, no
script, no network) and the same figures as CSV files. Pure: ``model`` is what a report shows, ``page`` and
``figures`` turn it into text; writing the files is the caller's."""
