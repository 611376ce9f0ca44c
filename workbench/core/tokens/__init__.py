"""Tokens: decoding, inspection, claims in words, signature checks, JWKS and reports."""
