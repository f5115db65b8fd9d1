"""Write the four Maillage notebooks from this file, so they are reviewed as code.

Usage: ``.venv/bin/python notebooks/build.py`` (rewrites ``notebooks/0*.ipynb``, without outputs).
The notebooks read the store named by ``MAILLAGE_STORE`` and query it only through named
queries (``frame(store, id, **params)``); charts are matplotlib (Agg) images, maps are drawn
from the packaged commune boundaries, so everything runs offline.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
import os

import matplotlib.pyplot as plt
import pandas as pd

from maillage.graph.notebook_helpers import (bar_chart, choropleth, fr_number, frame,
                                             open_store, short, show)

pd.set_option("display.max_colwidth", 60)
store = open_store()
graphs = [g.value for g in store.named_graphs()]
synthetic = any("synthetique" in g for g in graphs)
print(f"Store : {store.path} — {len(graphs)} graphes nommés")
if synthetic:
    print("ATTENTION : ce graphe contient des données SIRENE SYNTHÉTIQUES (démonstration).")"""

SYNTHETIC_NOTE = (
    "> Les structures SIRENE de la démonstration sont **synthétiques** (générées, signalées "
    "comme telles) ; territoires, nomenclatures et listes d'acteurs sont réels et sourcés.")


def panorama() -> list:
    """01: actors per domain, filière and département; density map; communities."""
    return [
        new_markdown_cell("# Panorama de l'ESS francilienne dans la transition écologique\n\n"
                          "Acteurs de l'ESS en activité par domaine et filière TEE, par "
                          "département, et leur densité par commune.\n\n" + SYNTHETIC_NOTE),
        new_code_cell(SETUP),
        new_markdown_cell("## Acteurs par domaine TEE (requête `panorama_domaines`)"),
        new_code_cell("""\
domaines = frame(store, "panorama_domaines")
display(domaines[["libelle", "acteurs", "structures_sirene", "etablissements"]])
show(bar_chart(domaines.set_index("libelle")["acteurs"],
               title="Acteurs ESS en activité par domaine TEE", xlabel="acteurs"))"""),
        new_markdown_cell("## Filières les plus fournies (requête `panorama_filieres`)"),
        new_code_cell("""\
filieres = frame(store, "panorama_filieres").sort_values("acteurs", ascending=False)
show(bar_chart(filieres.set_index("libelle")["acteurs"].head(15),
               title="Les 15 filières TEE qui comptent le plus d'acteurs", xlabel="acteurs"))"""),
        new_markdown_cell("## Par département (requête `panorama_domaines_territoires`)"),
        new_code_cell("""\
par_dep = frame(store, "panorama_domaines_territoires", niveau="departement")
table = par_dep.pivot_table(index="nom", columns="domaine", values="acteurs", fill_value=0)
fig, ax = plt.subplots(figsize=(8, 4))
table.plot.bar(stacked=True, ax=ax)
ax.set_xlabel(""); ax.set_ylabel("acteurs"); ax.set_title("Acteurs ESS TEE par département")
show(fig)"""),
        new_markdown_cell("## Densité d'acteurs TEE par commune\n\nActeurs en activité (requête "
                          "`acteurs_filieres`) pour 10 000 habitants (population municipale, "
                          "requête `territoires_communes`) ; Paris est détaillé par "
                          "arrondissement, les communes sans acteur sont en gris."),
        new_code_cell("""\
communes = frame(store, "territoires_communes")
acteurs = frame(store, "acteurs_filieres")
par_commune = acteurs.groupby("commune")["acteur"].nunique()
communes["acteurs"] = communes["commune"].map(par_commune).fillna(0)
communes["densite"] = communes["acteurs"] / communes["population"] * 10_000
valeurs = communes[communes["acteurs"] > 0].set_index("code")["densite"].to_dict()
fig, ax = plt.subplots(figsize=(9, 8))
choropleth(ax, valeurs, title="Acteurs ESS TEE pour 10 000 habitants", label="densité")
show(fig)"""),
        new_markdown_cell("## Filières qui se côtoient (analyse `colocation`)\n\nCommunautés du "
                          "réseau de co-implantation des filières ; une communauté qui couvre "
                          "plusieurs domaines est une filière transversale candidate."),
        new_code_cell("""\
communautes = frame(store, "communautes_filieres")
if communautes.empty:
    print("Pas de communauté enregistrée : lancez `maillage analyze`.")
else:
    display(communautes[["rang", "transversale", "libelle", "domaine"]]
            .assign(domaine=communautes["domaine"].map(short)))"""),
        new_markdown_cell("## Provenance des analyses (requête `analyses_executees`)"),
        new_code_cell("""\
executions = frame(store, "analyses_executees")
display(executions[["analyse", "debut", "fin", "resultats"]])"""),
    ]


def synergies() -> list:
    """02: ranked synergy candidates, their proximity, filière pairs, map, brokers."""
    return [
        new_markdown_cell("# Synergies entre structures de filières complémentaires\n\n"
                          "Paires de structures dont les filières sont déclarées complémentaires "
                          "(relation éditoriale `mai:complementaryTo`) et qui sont proches "
                          "(même commune > même EPCI > même département), classées par score "
                          "(complémentarité × proximité × taille et ancienneté). Voir "
                          "`maillage.graph.analysis.synergies` pour la méthode.\n\n"
                          + SYNTHETIC_NOTE),
        new_code_cell(SETUP),
        new_code_cell("""\
paires = frame(store, "synergies_classement")
print(f"{len(paires)} paires enregistrées dans le graphe")
display(paires.head(20)[["rang", "score", "nom1", "filiere1", "nom2", "filiere2",
                          "proximite", "lieu"]])"""),
        new_markdown_cell("## Scores selon la proximité"),
        new_code_cell("""\
fig, ax = plt.subplots(figsize=(8, 4))
for proximite, groupe in paires.groupby("proximite"):
    ax.hist(groupe["score"].astype(float), bins=20, alpha=0.6, label=proximite)
ax.set_xlabel("score"); ax.set_ylabel("paires"); ax.legend(title="proximité")
ax.set_title("Distribution des scores de synergie")
show(fig)"""),
        new_markdown_cell("## Paires de filières les plus représentées"),
        new_code_cell("""\
couples = (paires["filiere1"] + " — " + paires["filiere2"]).value_counts().head(12)
if len(couples):
    show(bar_chart(couples, title="Paires de filières des synergies candidates", xlabel="paires"))"""),
        new_markdown_cell("## Où se trouvent les synergies de proximité immédiate\n\nNombre de "
                          "paires dans la même commune (ou le même arrondissement)."),
        new_code_cell("""\
locales = paires[paires["proximite"] == "commune"].groupby("lieu").size()
fig, ax = plt.subplots(figsize=(9, 8))
choropleth(ax, locales.to_dict(), title="Synergies candidates dans la même commune",
           label="paires", cmap="magma_r")
show(fig)"""),
        new_markdown_cell("## Passerelles (analyse `brokers`)\n\nFilières et structures de plus "
                          "forte intermédiarité : elles relient des groupes autrement séparés."),
        new_code_cell("""\
courtiers = frame(store, "courtiers")
display(courtiers.groupby("type").head(10)[["type", "rang", "libelle", "intermediarite",
                                            "degre", "domaines"]])"""),
    ]


def emergentes() -> list:
    """03: emerging activities, their creation curves and TEE neighbours."""
    return [
        new_markdown_cell("# Filières émergentes\n\nActivités NAF de structures ESS rattachées à "
                          "aucune filière TEE dont les créations croissent plus vite que "
                          "l'ensemble des créations ESS, et les filières TEE avec lesquelles "
                          "elles sont co-implantées. Voir `maillage.graph.analysis.emergence`.\n\n"
                          + SYNTHETIC_NOTE),
        new_code_cell(SETUP),
        new_code_cell("""\
emergentes = frame(store, "filieres_emergentes")
if emergentes.empty:
    print("Aucune activité émergente enregistrée (ou analyse non lancée).")
display(emergentes[["rang", "code", "libelle", "score", "recentes", "precedentes",
                    "croissance", "voisines"]])"""),
        new_markdown_cell("## Part des créations de structures ESS, par année\n\nRequête "
                          "`activites_creations_communes` : créations par activité et par année."),
        new_code_cell("""\
creations = frame(store, "activites_creations_communes").dropna(subset=["annee"])
par_annee = creations.groupby(["annee", "activite"])["structures"].sum().unstack(fill_value=0)
par_annee = par_annee[par_annee.index >= par_annee.index.max() - 15]
part = par_annee.div(par_annee.sum(axis=1), axis=0) * 100
fig, ax = plt.subplots(figsize=(9, 4.5))
for activite in emergentes["activite"].head(5):
    if activite in part:
        ax.plot(part.index, part[activite], marker="o", label=short(activite))
ax.set_ylabel("% des créations ESS"); ax.set_title("Activités émergentes : part des créations")
if ax.lines:
    ax.legend()
show(fig)"""),
        new_markdown_cell("## Filières TEE voisines\n\nPour chaque activité émergente, les "
                          "filières avec lesquelles elle partage significativement ses territoires "
                          "(lift > 1, test de Poisson corrigé par Benjamini–Hochberg)."),
        new_code_cell("""\
voisines = emergentes.assign(voisine=emergentes["voisines"].fillna("").str.split(" ; "))
voisines = voisines.explode("voisine")
display(voisines[voisines["voisine"] != ""][["code", "libelle", "voisine"]])"""),
        new_markdown_cell("## Communautés de filières (analyse `colocation`)"),
        new_code_cell("""\
communautes = frame(store, "communautes_filieres")
display(communautes[["rang", "transversale", "libelle"]])"""),
    ]


def profil() -> list:
    """04: one EPCI: actors, domains, map, measures covered, gaps, suggested partners."""
    return [
        new_markdown_cell("# Profil d'un territoire (EPCI)\n\nActeurs, domaines, mesures FREC et "
                          "Plan Bâtiment couvertes, lacunes et partenaires suggérés pour un EPCI. "
                          "Choisissez l'EPCI avec la variable d'environnement `MAILLAGE_EPCI` "
                          "(SIREN) ; à défaut, celui qui compte le plus d'acteurs.\n\n"
                          + SYNTHETIC_NOTE),
        new_code_cell(SETUP),
        new_code_cell("""\
communes = frame(store, "territoires_communes")
epcis = frame(store, "territoires_epci")
acteurs = frame(store, "acteurs_filieres").merge(
    communes[["commune", "code", "nom", "epci"]].rename(columns={"nom": "lieu"}), on="commune")
EPCI = os.environ.get("MAILLAGE_EPCI") or short(acteurs["epci"].value_counts().idxmax())
epci = epcis[epcis["code"] == EPCI].iloc[0]
locaux = acteurs[acteurs["epci"] == epci["epci"]]
print(f"{epci['nom']} ({EPCI}) : {locaux['acteur'].nunique()} acteurs TEE en activité")"""),
        new_markdown_cell("## Acteurs par domaine (requête `panorama_domaines`)"),
        new_code_cell("""\
domaines = frame(store, "panorama_domaines", territoire=EPCI)
show(bar_chart(domaines.set_index("libelle")["acteurs"],
               title=f"Acteurs ESS TEE — {epci['nom']}", xlabel="acteurs"))
liste = locaux.assign(filiere=locaux["filiere"].map(short))
display(liste.groupby(["acteur", "nom", "lieu"])["filiere"].agg(", ".join).reset_index()
        .drop(columns="acteur").head(15))"""),
        new_markdown_cell("## Carte des communes de l'EPCI"),
        new_code_cell("""\
siens = communes[communes["epci"] == epci["epci"]]
par_commune = locaux.groupby("code")["acteur"].nunique()
fig, ax = plt.subplots(figsize=(8, 7))
choropleth(ax, par_commune.to_dict(), codes=siens["code"].tolist(),
           title=f"Acteurs ESS TEE par commune — {epci['nom']}", label="acteurs")
show(fig)"""),
        new_markdown_cell("## Mesures FREC et Plan Bâtiment couvertes (requête "
                          "`mesures_territoire`)\n\nUne mesure est couverte quand au moins un "
                          "acteur local relève d'une filière qu'elle concerne (rattachement "
                          "éditorial)."),
        new_code_cell("""\
mesures = frame(store, "mesures_territoire", territoire=EPCI)
print(mesures.groupby("programme")["couverte"].agg(["sum", "count"])
      .rename(columns={"sum": "couvertes", "count": "mesures"}))
display(mesures[["programme", "mesure", "intitule", "acteurs_locaux", "couverte"]].head(20))"""),
        new_markdown_cell("## Lacunes : densité comparée à la médiane et zones blanches "
                          "(analyse `gaps`, requête `lacunes_epci`)"),
        new_code_cell("""\
lacunes = frame(store, "lacunes_epci", epci=EPCI)
densites = lacunes[lacunes["type"] == "TerritorialGap"]
display(densites[["libelle", "acteurs", "densite", "mediane", "ratio"]])
blanches = lacunes[lacunes["type"] == "WhiteZone"]
print(f"{len(blanches)} zones blanches (domaines ou filières sans acteur, présents ailleurs)")
display(blanches[["libelle", "score"]].head(15))"""),
        new_markdown_cell("## Partenaires suggérés (analyse `synergies`, requête "
                          "`synergies_territoire`)"),
        new_code_cell("""\
partenaires = frame(store, "synergies_territoire", territoire=EPCI)
display(partenaires.head(15)[["rang", "score", "nom1", "nom2", "proximite", "relation",
                              "justification"]])"""),
    ]


NOTEBOOKS = {
    "01_panorama.ipynb": panorama,
    "02_synergies.ipynb": synergies,
    "03_filieres_emergentes.ipynb": emergentes,
    "04_profil_territoire.ipynb": profil,
}


def build(directory: Path = HERE) -> list[Path]:
    """Write every notebook (no outputs) into ``directory``; returns their paths."""
    paths = []
    for name, cells in NOTEBOOKS.items():
        content = cells()
        for i, cell in enumerate(content):  # stable ids: rebuilding changes nothing
            cell["id"] = f"{name[:2]}-{i:02d}"
        nb = new_notebook(cells=content, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}})
        path = directory / name
        nbformat.write(nb, path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in build():
        print(f"wrote {p}")
