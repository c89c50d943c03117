"""Secret statistique: primary, threshold and secondary suppression of a linked table.

The independent check lives apart, in :mod:`abs_report.audit`, and shares no
code with this package.
"""

from .linked import departements_needed, is_cached, parts_for, protect_zones
from .mask import Protection, UnprotectedCells, load_or_protect, mask_hash, protect
from .primary import MISSING, PRIMARY, PUBLISHED, SECONDARY, STATUSES, THRESHOLD
from .rules import Rules, load_rules
from .scope import scope_zones

__all__ = ["Protection", "UnprotectedCells", "departements_needed", "is_cached", "parts_for", "protect_zones", "Rules", "load_or_protect", "load_rules", "mask_hash", "protect", "scope_zones",
           "PUBLISHED", "PRIMARY", "SECONDARY", "THRESHOLD", "MISSING", "STATUSES"]
