"""Locale formats (``FORMAT_MODULE_PATH``): Django ships none for Kazakh.

``kk`` is written here from CLDR (thousands grouped with a no-break space, decimal comma,
``2026 ж. 15 қыркүйек``, ``15.09.2026``); ``ru`` is Django's with ISO dates accepted first, so a
``<input type="date">`` gets back the value it sent; ``en`` is Django's own.
"""
