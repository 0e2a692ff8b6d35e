"""DIP (按病种分值付费), exactly as ``shared/dip/FORMAT.md`` says: catalogues built from a region's own base-year
cases, and cases grouped against a compiled catalogue.

``case`` derives a case's key (``dx4``, the procedure set ``P``, the case type); ``build`` turns history into a
``Catalogue`` (plain data, like a CHS-DRG pack); ``matching`` compiles a catalogue into a ``DipGrouper`` indexed
by ``dx4`` and groups cases with it. Pure: no I/O, files are read and written by ``adapters.dip_files``.
"""
