"""Request bodies for every route family: read within a size limit, parsed strictly (JSON, or
YAML without aliases or tags) off the event loop, and refused with the field at fault.

The package knows no error family: it raises `BodyRefused` (and, for a model's errors, FastAPI's
`RequestValidationError`), and each family's handlers render those in the family's own shape
(the HQ's in `backend/errors.py`). A new family (an agent API, say):
1. makes its `BodyPolicy` (size, media types, its 415-or-400 choice, its error schema);
2. takes bodies through `Validated(policy, Model)` or `Document(policy, schema)` dependencies,
   passing the dependency's `.openapi` as the route's `openapi_extra`;
3. handles `BodyRefused` and `RequestValidationError` in its app, and runs
   `hoist_body_schemas` over its OpenAPI document."""
