"""Exports of cluneal results to other formats, each behind an optional extra.

:mod:`cluneal.export.fhir` writes FHIR R4 JSON (extra ``fhir`` for validation).
Nothing here is imported by ``import cluneal``.
"""
