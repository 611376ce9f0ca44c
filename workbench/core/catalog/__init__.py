"""API catalogs: the vendors' OpenAPI 3.x / Swagger 2.0 documents as searchable operations.

document (read a spec file / https URL with an ETag cache), parse (normalise both shapes into
model.Operation), cache (pre-parsed catalogs keyed by the document's hash), search, example
(bodies from schemas), fill (device-tree node -> path parameters), validate (requests and
responses against the documented schemas).
"""
