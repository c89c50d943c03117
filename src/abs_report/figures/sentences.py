"""The generated sentences that open the synthèse and evolution chapters.

A sentence is dropped whenever one of its numbers is not published: a
hidden figure never leaves a hole in a sentence.
"""

from __future__ import annotations

from .. import formatting as fmt
from ..context import ReportContext
from ..untrusted import markdown_text as md
from .lookup import PublishedIndex


def sentences(ctx: ReportContext, rows: PublishedIndex, chapter: str) -> list[str]:
    """Generated French sentences; a sentence is dropped if any of its numbers is not published."""
    territory = ctx.territory
    reference = next((z for z in ctx.zones[1:] if z.level == "departement"),
                     ctx.zones[1] if len(ctx.zones) > 1 else None)
    here = md(territory.locative[0].upper() + territory.locative[1:])

    def pair(table_id, item):
        own = rows.get(table_id, territory, item)
        ref = rows.get(table_id, reference, item) if reference else (None, "missing", "")
        own_text = fmt.value(own[0], own[2]) if own[1] == "published" else None
        ref_text = fmt.value(ref[0], ref[2]) if ref[1] == "published" else None
        return own_text, ref_text

    def compare(ref_text):
        return f", contre {ref_text} {md(reference.locative)}" if ref_text and reference else ""

    out = []
    if chapter == "synthese":
        cov, cov_ref = pair("T00_chiffres_cles", "taux_couverture")
        if cov:
            out.append(f"{here}, {cov} des habitants sont couverts par au moins une prestation de la Caf"
                       f"{compare(cov_ref)}.")
        foyers, _ = pair("T00_chiffres_cles", "foyers_allocataires")
        pers, _ = pair("T00_chiffres_cles", "personnes_couvertes")
        if foyers and pers:
            # "y" needs the coverage sentence before it (a QPV has no population, hence no coverage).
            where = "La Caf y verse" if cov else f"{here}, la Caf verse"
            out.append(f"{where} au moins une prestation à {foyers} foyers allocataires, "
                       f"soit {pers} personnes couvertes.")
        mono, mono_ref = pair("T00_chiffres_cles", "part_monoparentales")
        if mono:
            out.append(f"Les familles monoparentales représentent {mono} des familles allocataires avec "
                       f"enfants{compare(mono_ref)}.")
        low, low_ref = pair("T00_chiffres_cles", "taux_bas_revenus")
        if low:
            out.append(f"{low} des allocataires de référence vivent sous le seuil de bas revenus"
                       f"{compare(low_ref)}.")
        rsa, rsa_ref = pair("T00_chiffres_cles", "part_rsa")
        if rsa:
            out.append(f"Le RSA est versé à {rsa} des foyers allocataires{compare(rsa_ref)}.")
        housing, housing_ref = pair("T00_chiffres_cles", "part_aides_logement")
        if housing:
            out.append(f"{housing} des foyers allocataires perçoivent une aide au logement"
                       f"{compare(housing_ref)}.")
        return [s[0].upper() + s[1:] for s in out]
    if chapter == "evolution" and ctx.years:
        first, last = ctx.years[0], ctx.year
        rate = rows.get("T13_evolution", territory, "evolution_foyers_allocataires", last)
        ref = rows.get("T13_evolution", reference, "evolution_foyers_allocataires", last) if reference else None
        if rate[1] == "published" and first != last:
            text = (f"Entre {first} et {last}, le nombre de foyers allocataires a évolué de "
                    f"{fmt.signed_percent(rate[0])} {md(territory.locative)}")
            if ref and ref[1] == "published":
                text += f", contre {fmt.signed_percent(ref[0])} {md(reference.locative)}"
            out.append(text + ".")
    return out
