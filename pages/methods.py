"""Methods: how each figure is measured, its limits, the carbon data, and what to cite."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from efficiency import paths, ui
from efficiency.data import CATALOG
from efficiency.estimate import FULL_FINE_TUNING
from efficiency.measure.carbon import countries, intensity_g_per_kwh
from efficiency.techniques import FACTS

PAPERS = [
    "Treviso, M., Lee, J.-U., Ji, T., et al. (2023). Efficient Methods for Natural Language Processing: A Survey. "
    "Transactions of the ACL 11.",
    "Mirashi, A., Lingayat, P., Sonavane, S., et al. (2024). On Importance of Pruning and Distillation for Efficient "
    "Low Resource NLP. arXiv:2409.14162 (Marathi).",
    "Ouyang, X., Ansari, S., Lin, F. X., Ji, Y. (2023). Efficient Model Finetuning for Text Classification via Data "
    "Filtering (multistage filtering). IJCAI 2023.",
    "Schwartz, R., Dodge, J., Smith, N. A., Etzioni, O. (2020). Green AI. Communications of the ACM 63(12).",
    "Lacoste, A., Luccioni, A., Schmidt, V., Dandres, T. (2019). Quantifying the Carbon Emissions of Machine "
    "Learning (the ML CO2 Impact calculator).",
    "CodeCarbon (2024). mlco2/codecarbon, the energy tracker and the carbon-intensity data used here.",
    "Kaplan, J., McCandlish, S., Henighan, T., et al. (2020). Scaling Laws for Neural Language Models. "
    "arXiv:2001.08361 (the 6·N·D estimate of training FLOPs).",
    "Dettmers, T., Pagnoni, A., Holtzman, A., Zettlemoyer, L. (2023). QLoRA: Efficient Finetuning of Quantized "
    "LLMs. NeurIPS 2023.",
]

ui.page_start(ui.PAGES.methods.title)
st.markdown((paths.REPO_ROOT / "assets" / "methods.md").read_text(encoding="utf-8"))

st.subheader("This machine")
latest = next((r for r in ui.get_store().list(status="finished", limit=20) if r.environment), None)
if latest is None:
    st.caption("After the first run, the energy method CodeCarbon chose on this machine is shown here.")
else:
    metrics, env = latest.metrics or {}, latest.environment or {}
    st.markdown(
        f"Run {latest.id} ({latest.device}): energy **{metrics.get('energy_kind', '?')}**, "
        f"method: {metrics.get('energy_method', 'not recorded')}."
    )
    ui.counted_vs_rule_of_thumb(metrics)
    with st.expander("Environment of that run"):
        st.json(env, expanded=False)

st.subheader("Rules of thumb behind the predicted cost")
rules = [{"technique": k, "rule": v} for k, v in FULL_FINE_TUNING.items()]
for facts in FACTS.values():
    rules += [
        {"technique": f"{facts.title} ({case})" if case else facts.title, "rule": text}
        for case, text in facts.rules.items()
    ]
st.dataframe(pd.DataFrame(rules), hide_index=True, width="stretch")

st.subheader("Carbon intensity by country")
rows = []
for code, name in countries():
    intensity, source = intensity_g_per_kwh(code)
    rows.append({"code": code, "country": name, "g CO₂eq/kWh": round(intensity), "source": source})
st.dataframe(pd.DataFrame(rows).sort_values("g CO₂eq/kWh"), hide_index=True, width="stretch", height=300)
world, source = intensity_g_per_kwh("WORLD")
st.caption(f"World average: {world:.0f} g CO₂eq/kWh ({source}).")

st.subheader("Techniques and their sources")
st.dataframe(
    pd.DataFrame(
        [
            {
                "technique": f.title,
                "name": f.name,
                "pillar": f.pillar,
                "stage": f.stage,
                "what it does": f.summary,
                "source": f.citation,
            }
            for f in FACTS.values()
        ]
    ),
    hide_index=True,
    width="stretch",
)

st.subheader("Papers")
st.markdown("\n".join(f"- {p}" for p in PAPERS))

st.subheader("Datasets: licences and citations")
st.dataframe(
    pd.DataFrame(
        [
            {
                "dataset": f.title,
                "task": f.task,
                "languages": ", ".join(f.languages) or "Marathi",
                "licence": f.license,
                "cite": f.citation,
                "source": f.source,
            }
            for f in CATALOG.values()
        ]
    ),
    hide_index=True,
    width="stretch",
)
