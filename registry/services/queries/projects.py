"""Bulk loads of catalogue projects (services/demo.py, services/project_import.py)."""

#: The project columns a bulk load writes with COPY, in the order its records give them.
COPY_COLUMNS = [
    "id",
    "code",
    "title_vi",
    "title_en",
    "abstract_vi",
    "abstract_en",
    "organisation",
    "fund",
    "amount_vnd",
    "starts_on",
    "ends_on",
    "province",
    "sort_key",
    "is_demo",
]
