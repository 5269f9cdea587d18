"""Request bodies for every route family: read within a size limit, parsed strictly (JSON, or
YAML without aliases or tags) off the event loop, and refused with the field at fault.

The package knows no error family: it raises `BodyRefused`, and each family's handlers render
that in the family's own shape (the HQ's in `backend/errors.py`)."""
