"""Texts every report carries: source lines and notes, the closing section, the erratum box.

Pure functions of the report's context (and, for the glossary, of the
measures it publishes): the main process uses :func:`source_line` for the
cover and the workbook without drawing anything.
"""

from __future__ import annotations

import datetime as dt

from .. import formatting as fmt
from ..catalogue import INDICATORS, MEASURES, label
from ..context import ErratumItem, ReportContext
from ..geometry import ATTRIBUTION
from ..untrusted import markdown_text as md
from ..untrusted import plain_text
from .labels import definition, item_label, join, lower_first
from .lookup import status_text

DEMO_NOTICE = "Données fictives de démonstration"
NOT_AVAILABLE = "Donnée non disponible dans la source."


def source_line(ctx: ReportContext) -> str:
    """``Source : Caf de l'Isère (Cnaf pour ...), données au 31 décembre 2024.``"""
    ds = ctx.dataset
    outside = [z.name for z in ctx.zones if not z.in_producer_area]
    text = f"Source : {ds.producer}"
    if outside:
        text += f" ({ds.reference_producer} pour {join(outside)})"
    text += f", données au {ctx.reference_date}."
    if ds.rounded_to:
        text += f" Effectifs arrondis à {ds.rounded_to} par la Cnaf (données ouvertes)."
    if ds.synthetic:
        text += f" {DEMO_NOTICE}."
    # Producer and zone names come from the dataset and the parameter file: plain
    # text here, escaped by each Markdown caller (the line is also cover metadata).
    return plain_text(text)


def source_note(ctx: ReportContext, cells: list[str], absent: list[str] = (), basemap: bool = False) -> str:
    """The note under a table or chart: the source line, what ``s`` and ``nd`` mean if it shows them,
    and the comparison zones left out because the source has nothing on them (``absent``).

    Under a map (``basemap``) the line also credits the contours beside the Caf source.
    """
    notes = []
    if absent:
        verb = "ne figure pas" if len(absent) == 1 else "ne figurent pas"
        notes.append(f"{join([md(name) for name in absent])} {verb} ici : la source ne fournit pas ces données "
                     "(voir « Ce que la source ne fournit pas »).")
    if fmt.SECRET in cells:
        notes.append(f"*{fmt.SECRET}* : donnée soumise au secret statistique (effectif inférieur à 5, "
                     "ou permettant de retrouver un tel effectif, ou quartier de moins de 100 allocataires).")
    if fmt.MISSING in cells:
        notes.append(f"*{fmt.MISSING}* : donnée non disponible dans la source.")
    line = md(source_line(ctx))
    if basemap:
        line = f"{line.rstrip()} {ATTRIBUTION}."  # our own constant: no user text to escape
    return f"::: source-note\n{line} {' '.join(notes)}\n:::\n"


def glossary(measures) -> str:
    """A definition for every measure the report publishes, then evolution and index."""
    used = [m for m in measures if m in MEASURES or m in INDICATORS]
    lines = [f"- **{label(i)}** : {definition(i)}" for i in used]
    lines.append("- **Évolution** : variation relative d'un effectif entre la première et la dernière "
                 "année disponibles, en pourcentage. **Indice** : effectif d'une année rapporté à celui "
                 "de la première année, multiplié par 100.")
    return "\n".join(lines)


def lacking_section(measures, zones) -> str:
    """« Ce que la source ne fournit pas » : each theme and zone the source lacks, and the file that brings it.

    Empty when the source lacks nothing.
    """
    if not measures and not zones:
        return ""
    lines = []
    for zone, file in zones:
        lines.append(f"- les chiffres {md(zone.locative or 'de ' + zone.name)} : {file} ;")
    for theme, file, items in measures:
        shown = ", ".join(lower_first(item_label(i)) for i in items[:4]) + (", …" if len(items) > 4 else "")
        where = file if file.startswith("demande") else f"fichier {file} de data.caf.fr"
        lines.append(f"- {lower_first(theme)} ({shown}) : {where} ;")
    lines[-1] = lines[-1][:-2] + "."
    return ("\n\n## Ce que la source ne fournit pas\n\nLes tableaux, graphiques et lignes sans aucune donnée "
            "pour le territoire sont omis. Pour les compléter :\n\n" + "\n".join(lines) + "\n")


def qpv_intro(ctx: ReportContext) -> str:
    """What the QPV section shows: the commune's QPV, named, and those that span two communes."""
    names = [md(q.name) for q in ctx.qpv]
    commune = md(ctx.territory.name)
    count = (f"{commune} compte un quartier prioritaire de la politique de la ville (QPV, géographie 2024 de "
             f"l'ANCT) : {names[0]}." if len(names) == 1 else
             f"{commune} compte {len(names)} quartiers prioritaires de la politique de la ville (QPV, géographie "
             f"2024 de l'ANCT) : {join(names)}.")
    iris = (" Un QPV n'est pas une réunion de quartiers IRIS : ses chiffres ne se déduisent pas du tableau "
            "par IRIS." if ctx.iris else "")
    parts = [count, f"Le tableau suivant les compare à la commune hors QPV et à la commune entière.{iris}"]
    spans: dict[tuple[str, ...], list[str]] = {}
    for q in ctx.qpv:
        if len(q.communes) > 1:
            spans.setdefault(q.communes, []).append(md(q.name))
    for communes, quartiers in spans.items():
        where = f"deux communes ({join([md(c) for c in communes])})"
        parts.append(f"Le quartier {quartiers[0]} s'étend sur {where} : ses chiffres portent sur l'ensemble du quartier."
                     if len(quartiers) == 1 else
                     f"Les quartiers {join(quartiers)} s'étendent sur {where} : leurs chiffres portent sur "
                     "l'ensemble de chaque quartier.")
    return " ".join(parts) + "\n"


def qpv_method(ctx: ReportContext) -> str:
    """The method's paragraph on QPV, for a report that shows any (empty otherwise)."""
    if not ctx.qpv and not any(z.level in ("qpv", "qpv_departement") for z in ctx.zones):
        return ""
    return ("\n\nLes quartiers prioritaires de la politique de la ville (QPV) sont ceux de la géographie "
            "prioritaire entrée en vigueur le 1er janvier 2024 (périmètres de l'ANCT). Les chiffres d'un QPV "
            "portent sur les foyers allocataires qui y résident, sur tout son périmètre, même s'il s'étend sur "
            "deux communes ; « hors QPV » désigne le reste de la commune, et « ensemble des QPV » la somme des "
            "QPV du département. Un QPV ne suit pas les limites des quartiers IRIS." + _qpv_calibration(ctx))


def _qpv_calibration(ctx: ReportContext) -> str:
    """On demonstration data: what the simulated QPV figures are calibrated on (with the numbers)."""
    if not ctx.dataset.synthetic:
        return ""
    from ..sources.synthetic_qpv import calibration_note

    return " " + md(calibration_note())


QPV_NO_DATA = "La source ne fournit pas de chiffres par quartier prioritaire pour cette commune."


def fiche_notice(ctx: ReportContext, hidden: int, total: int) -> str:
    """Why a territory gets a short fiche instead of a full report."""
    name = md(ctx.territory.name)
    return (f"**Une fiche courte plutôt qu'un rapport complet.** {hidden} des {total} chiffres clés du territoire ({name}) "
            "sont couverts par le secret statistique (effectif inférieur à 5, ou permettant de retrouver un "
            "tel effectif) : les tableaux détaillés n'afficheraient presque que des *s*. Cette fiche présente "
            "ce qui peut être publié, les zones de comparaison et les obligations du destinataire.\n")


def proposal_paragraph(ctx: ReportContext) -> str:
    """The fiche's paragraph proposing an aggregation of communes (see :mod:`abs_report.aggregation`)."""
    p = ctx.proposal
    if p is None:
        return ("Ce qui ne peut être publié pour un territoire peut l'être pour un regroupement de communes : "
                "un rapport de l'intercommunalité ou d'un regroupement défini avec la Caf (`level: aggregation`) "
                "le permet.\n")
    if not p.reaches:
        return (f"Même l'ensemble de {md(p.epci_name)} ne compte pas {p.min_foyers} foyers allocataires publiés : "
                "le rapport de l'intercommunalité ou du département est l'échelle la plus fine publiable.\n")
    how = "contiguës" if p.contiguity == "contours" else "de la même intercommunalité"
    others = [md(n) for c, n in zip(p.communes, p.names) if c != p.commune]
    return (f"## Un regroupement de communes\n\nCe qui ne peut être publié pour une commune peut l'être pour un "
            f"regroupement de communes. Le plus petit regroupement de communes {how} de {md(p.epci_name)} qui "
            f"contient {md(ctx.territory.name)} et compte au moins {p.min_foyers} foyers allocataires publiés "
            f"(chaque commune comptée par tranches de {p.band}, une commune masquée comptant zéro) lui ajoute "
            f"{join(others)}. La commande `abs-report suggest-aggregation {p.commune} --out regroupement.yml` "
            "écrit le fichier de paramètres de son rapport.\n")


def demote_headings(markdown: str) -> str:
    """Every heading one level down (``#`` -> ``##``): a section that continues the page it follows."""
    return "\n".join("#" + line if line.startswith("#") else line for line in markdown.split("\n"))


def closing_section(ctx: ReportContext, measures, lacking: str = "") -> str:
    """Sources, definitions, method, secret statistique and the recipient's obligations (Markdown)."""
    ds, secrecy = ctx.dataset, ctx.secrecy
    counts = secrecy.counts
    hidden = sum(v for k, v in counts.items() if k.startswith("secret"))
    total = sum(counts.values())
    gen = ds.generator or {}
    demo = (f"\n\n**{DEMO_NOTICE}.** Les chiffres de ce rapport sont produits par un générateur "
            f"(version {md(gen.get('version', ''))}, graine {md(gen.get('seed', ''))}) pour démontrer l'outil ; "
            "ils ne décrivent pas la population réelle et ne doivent pas être diffusés comme tels."
            if ds.synthetic else "")
    rounded = (f" Les effectifs des données ouvertes de la Cnaf sont arrondis à {ds.rounded_to} ; "
               "les totaux peuvent donc différer légèrement de la somme de leurs parties."
               if ds.rounded_to else "")
    text = f"""# Sources, méthode et secret statistique

## Sources

{md(source_line(ctx))} Les statistiques de la Caf décrivent les foyers allocataires au
{ctx.reference_date} (données consolidées).{rounded} La population municipale provient du
{md(ctx.population_source)}. Les zones de comparaison sont {join([md(z.name) for z in ctx.zones[1:]])}.
Les statistiques des Caf sont labellisées par l'Autorité de la statistique publique.{demo}{lacking}

## Définitions

{glossary(measures)}

## Méthode

Chaque taux rapporte un numérateur à un dénominateur de la même zone et de la même date. Les chiffres
des zones de comparaison sont la somme de ceux des communes qui les composent. Tous les chiffres
publiés dans ce rapport, avec leur statut, figurent dans le fichier `published.csv` qui l'accompagne ;
le carnet exécuté `report.ipynb` et le fichier `manifest.json` permettent de les reproduire.{qpv_method(ctx)}

## Secret statistique

Règles de diffusion de la Caf appliquées (version {secrecy.rules_version}) :

- aucun effectif compris entre 1 et {secrecy.threshold - 1} n'est publié (secret primaire) ;
- aucun chiffre ne permet de retrouver un tel effectif, par différence entre un total et ses parties,
  entre zones emboîtées (quartiers, commune, intercommunalité, département) ou entre rapports : d'autres
  cases sont masquées en conséquence (secret secondaire), de la même façon dans tous les rapports ;
- aucun chiffre n'est publié pour un quartier de moins de {secrecy.min_infra_communal} allocataires,
  et rien en deçà du quartier IRIS (seuil infra-communal) ;
- un taux, un ratio ou une évolution dont le numérateur ou le dénominateur est secret n'est pas publié.

Les cases masquées portent la mention *{fmt.SECRET}*. Dans ce rapport, {hidden} chiffre(s) sur {total}
sont masqués : {counts.get('secret_primary', 0)} au titre du secret primaire,
{counts.get('secret_secondary', 0)} au titre du secret secondaire et {counts.get('secret_threshold', 0)}
au titre du seuil infra-communal ; {counts.get('missing', 0)} ne figurent pas dans la source (*{fmt.MISSING}*).

## Obligations du destinataire

Les données de la Caf sont transmises à {md(ctx.recipient)} pour la seule étude déclarée :
« {md(ctx.purpose)} ». Le destinataire s'engage à :

- utiliser ces données uniquement dans le cadre de cette étude ;
- ne pas les transmettre à un tiers sans l'accord préalable de la Caf ;
- citer la source « {md(ds.producer)} » pour toute reproduction d'un chiffre, d'un tableau ou d'un graphique ;
- transmettre le rapport final à la Caf sur sa demande.
"""
    return text


def erratum_box(ctx: ReportContext) -> str | None:
    """The "Erratum" box opening a re-issued report: each corrected figure, old and new.

    ``None`` for a first edition. A figure shown in several tables is listed
    once; a value that changes only beyond the printed precision is counted,
    not listed (``published-v<n>.csv`` has it). The box is a Typst block in
    the PDF and a bordered note in the HTML.
    """
    err = ctx.erratum
    if err is None:
        return None
    shown, finer = _erratum_rows(err.items)
    since = (f", diffusée le {fmt.french_date(dt.date.fromisoformat(err.replaces_edition))}"
             if err.replaces_edition else "")
    intro = (f"Les {len(shown)} chiffre(s) ci-dessous remplacent ceux de la version "
             f"{err.replaces_version}{since}." if shown else
             "Aucun chiffre imprimé ne change à la précision affichée.")
    if finer:
        intro += (f" {finer} autre(s) valeur(s) ne change(nt) qu'au-delà de la précision affichée ; "
                  f"le fichier `published-v{err.version}.csv` donne toutes les valeurs.")
    table = ("\n| Zone | Indicateur | Année | Publié | Corrigé |\n|:---|:---|---:|---:|---:|\n"
             + "\n".join(f"| {md(z)} | {m} | {y} | {b} | {a} |" for z, m, y, b, a in shown) + "\n"
             if shown else "")
    text = f"""::: {{.erratum role="note"}}
```{{=typst}}
#block(width: 100%, stroke: 1.5pt + rgb("#9b1c1c"), radius: 3pt, inset: 10pt, below: 1.5em)[
```
**Erratum — version {err.version} du rapport, corrigée le {fmt.french_date(dt.date.fromisoformat(err.date))}.**
La Caf a transmis des données corrigées. {intro} Tous les autres chiffres sont inchangés.
{table}
```{{=typst}}
]
```
:::
"""
    return text


def _erratum_rows(items: tuple[ErratumItem, ...]) -> tuple[list[tuple], int]:
    """Rows (zone, indicator, year, before, after) of figures whose printed value changes,
    once each, and how many other figures change only beyond the printed precision."""
    shown, finer = {}, set()
    for item in items:
        key = (item.zone_level, item.zone_code, item.measure, item.year)
        before, after = _erratum_value(item, "before"), _erratum_value(item, "after")
        if before == after:
            finer.add(key)
        elif key not in shown:
            shown[key] = (item.zone_name, item_label(item.measure), item.year, before, after)
    return list(shown.values()), len(finer - set(shown))


def _erratum_value(item: ErratumItem, side: str) -> str:
    """A figure as the report printed it: French number, or ``s`` / ``nd``."""
    status = getattr(item, f"{side}_status")
    if status != "published":
        return status_text(status)
    if item.measure.startswith("evolution_"):
        return fmt.signed_percent(getattr(item, side))
    return fmt.value(getattr(item, side), item.unit)
