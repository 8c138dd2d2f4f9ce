"""An item's fields as a mutable mapping, without building an ``ItemAdapter`` in every stage for every item.

``ItemAdapter(item)`` on a dataclass copies the class's field list into a dict each time it is built: with three
transforming stages that is about 4% of an offline extraction. A plain dataclass instance (no ``__slots__``) keeps
its fields in its ``__dict__``, which reads and writes them exactly as the adapter does; every other item (dicts,
Scrapy items, attrs, pydantic) still goes through itemadapter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import MutableMapping
from typing import Any

from itemadapter import ItemAdapter

_PLAIN: dict[type, bool] = {}


def item_fields(item: Any) -> MutableMapping[str, Any]:
    """The fields of ``item``: a plain dataclass instance's ``__dict__``, else ``ItemAdapter(item)``."""
    cls = type(item)
    plain = _PLAIN.get(cls)
    if plain is None:
        plain = _PLAIN[cls] = dataclasses.is_dataclass(cls) and hasattr(item, "__dict__")
    if plain:
        fields: MutableMapping[str, Any] = vars(item)
        return fields
    return ItemAdapter(item)
