"""Literature catch-alls split along their documents' sections (synth/section_split.py, issue 13 item 2).

Two long reports about one programme say several things (how participants were referred, how
providers were paid, in-work support, creaming and parking, sanctions, employers) in one register:
in the embedding they are one tight cloud. Their authors separated those ideas under headings; the
split reads that. A report that returns to one idea in every section is not cut."""

from __future__ import annotations

import numpy as np

from synth.cluster import Clustering
from synth.section_split import Sections, section_parts, section_view, section_z, split_by_sections

REFERRAL = "How participants were referred"
PAYMENT = "How providers were paid"
IN_WORK = "Support once in work"
CREAMING = "Creaming and parking"
SANCTIONS = "Sanctions and conditionality"
EMPLOYERS = "Working with employers"

# (source, heading, text): report 0 and report 1, four passages per section.
CATCH_ALL = [
    (0, REFERRAL, "Jobcentre advisers referred claimants to the Pathways programme at their third interview, usually after six months on benefit."),
    (0, REFERRAL, "Referral letters from the jobcentre often gave participants little information about what the Pathways provider would offer them."),
    (0, REFERRAL, "Some advisers said they referred claimants to Pathways without knowing which provider would take them on."),
    (0, REFERRAL, "Participants referred to Pathways described the handover from the jobcentre as abrupt and confusing."),
    (0, PAYMENT, "Pathways providers were paid mainly by results: a fee when a participant started work and further payments while they stayed in work."),
    (0, PAYMENT, "Because most of the payment came after a job start, providers in the Pathways programme carried the cost of support for months."),
    (0, PAYMENT, "Differential payments offered providers more for participants judged hard to help, but several providers said the premium did not cover the cost."),
    (0, PAYMENT, "Some Pathways providers said the outcome payment model made it hard to fund specialist support."),
    (0, IN_WORK, "In-work support from Pathways providers consisted mostly of phone calls in the first weeks after a participant started a job."),
    (0, IN_WORK, "Participants who kept their jobs valued a named contact at the provider they could ring when problems came up at work."),
    (0, IN_WORK, "Few Pathways participants received help with travel or childcare after starting work, so some left within weeks."),
    (0, IN_WORK, "Providers said in-work support stopped when the sustainment payments ended."),
    (1, CREAMING, "Advisers at several Pathways providers admitted they spent their time on the participants closest to work."),
    (1, CREAMING, "Participants with health conditions or no English were often seen once a month and offered little else: they were parked."),
    (1, CREAMING, "Because providers concentrated on the job-ready, those furthest from work had the least support from Pathways."),
    (1, CREAMING, "Providers denied creaming in interviews, but caseload records showed the hardest to help had the fewest appointments."),
    (1, SANCTIONS, "Pathways participants who missed an appointment with their provider could be referred back to the jobcentre for a sanction."),
    (1, SANCTIONS, "Many provider staff doubted that the threat of sanctions made Pathways participants engage more."),
    (1, SANCTIONS, "Participants often did not know which activities on Pathways were mandatory and which were voluntary."),
    (1, SANCTIONS, "A sanction left some Pathways participants without money for weeks, and they stopped attending altogether."),
    (1, EMPLOYERS, "Pathways providers employed account managers to find vacancies with local employers."),
    (1, EMPLOYERS, "Employers said several Pathways providers contacted them about the same vacancies, which they found irritating."),
    (1, EMPLOYERS, "Providers that built lasting relationships with a few large employers placed more participants into work."),
    (1, EMPLOYERS, "Small employers rarely heard about Pathways and did not know that providers could pre-screen candidates for them."),
]

# One idea (childcare costs keep parents out of work) that both reports return to in every section.
ONE_IDEA = [
    (0, "Background", "Parents on Pathways told us the cost of childcare was the main reason they could not take a job."),
    (0, "Background", "For lone parents the price of a nursery place often cancels out what a part-time job would pay."),
    (0, "Background", "Childcare costs keep many mothers on the programme out of work even when a job is offered."),
    (0, "Background", "A full-time nursery place costs more than many of the jobs offered to parents would pay."),
    (0, "Findings from the interviews", "Several mothers said they turned down work because paying for childcare would leave them worse off."),
    (0, "Findings from the interviews", "Parents explained that after nursery fees a job would bring in almost nothing."),
    (0, "Findings from the interviews", "The cost of after-school care meant one father could only look for jobs within school hours."),
    (0, "Findings from the interviews", "Grandparents looked after the children for some, but those without family could not afford a childminder."),
    (0, "Recommendations", "Help with childcare costs should start before the first payday, when parents cannot yet pay a nursery."),
    (0, "Recommendations", "Parents need the childcare subsidy paid upfront, not refunded weeks after they have paid the fees."),
    (0, "Recommendations", "Advisers should work out with each parent what childcare will cost before suggesting a job."),
    (0, "Recommendations", "Funded nursery hours for younger children would let more parents on the programme take work."),
    (1, "Survey results", "Two in five parents on the programme named childcare costs as the reason they had not found work."),
    (1, "Survey results", "Parents who had no help paying for childcare were half as likely to be in work six months later."),
    (1, "Survey results", "Most lone parents said the price of childcare was a bigger obstacle than finding a vacancy."),
    (1, "Survey results", "Parents of children under three reported the highest childcare bills and the lowest job entry."),
    (1, "Case studies", "Sara left a cleaning job after a month because the childminder's fees took most of her wages."),
    (1, "Case studies", "A father of two could only accept evening shifts once his partner was home, as daytime childcare was too dear."),
    (1, "Case studies", "One mother's nursery bill went up in the summer holidays and she had to give up work."),
    (1, "Case studies", "When her council offered free nursery hours, Amina was able to start a part-time job."),
    (1, "Discussion", "The cost of childcare shapes who on the programme can work at all, and for how many hours."),
    (1, "Discussion", "Paying for childcare ahead of the first wage is where many parents' return to work fails."),
    (1, "Discussion", "Without affordable childcare, parents on the programme are offered jobs they cannot take."),
    (1, "Discussion", "Childcare fees make part-time work pay less than staying on benefits for many parents."),
]

# Interviews (no headings): three small themes of their own, one passage per interviewee.
INTERVIEWS = [
    [(10 + i, None, t) for i, t in enumerate([
        "I have no computer at home, so I do my job search on my phone.",
        "The online journal is hard for customers who have never used email.",
        "She couldn't upload her CV because she has no laptop or printer.",
        "A lot of our clients struggle with the online claim and the passwords.",
        "They lent me a Chromebook at the library so I could apply online."])],
    [(20 + i, None, t) for i, t in enumerate([
        "The bus to the industrial estate doesn't run before seven, so early shifts are impossible.",
        "Without a car she can't get to the warehouse jobs out of town.",
        "Travel costs ate up most of his first week's pay.",
        "The only bus back from the business park leaves at five.",
        "People turn down jobs because getting there takes two buses and an hour."])],
    [(30 + i, None, t) for i, t in enumerate([
        "His English isn't good enough yet for the jobs he used to do at home.",
        "The ESOL course has a waiting list of six months.",
        "She understands the adviser better when someone speaks Urdu with her.",
        "Forms in English only are a barrier for many of our customers.",
        "Language classes in the evening let him work during the day."])],
]


def _corpus(report: list[tuple[int, str, str]], embedder):
    rows = report + [row for group in INTERVIEWS for row in group]
    texts = [t for _, _, t in rows]
    X = np.asarray(embedder.encode(texts), dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    groups = np.array([s for s, _, _ in rows])
    headings = [h for _, h, _ in rows]
    # The catch-all: every report passage in one theme; each interview topic a theme of its own.
    labels = np.array([0] * len(report) + [1 + k for k, group in enumerate(INTERVIEWS) for _ in group])
    k = int(labels.max()) + 1
    centroids = np.stack([X[labels == j].mean(axis=0) for j in range(k)]).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    clustering = Clustering(labels=labels, nearest=labels.copy(), probability=np.ones(len(labels)),
                            centroids=centroids, stats={"min_theme_size": 4})
    return X, groups, headings, texts, clustering


def test_sections_are_keyed_by_source_and_heading():
    sections = Sections.of([1, 1, 2, 2, 3], ["Findings", "Findings", "Findings", None, "  "])
    assert sections.keys.tolist() == [0, 0, 1, -1, -1]  # two reports' "Findings" are two sections
    assert sections.headings == ("Findings", "Findings")
    assert not Sections.of([1], [None]).any


def test_a_literature_catch_all_is_split_along_its_sections(embedder):
    from synth.recurring import split_catch_alls

    X, groups, headings, TEXTS, clustering = _corpus(CATCH_ALL, embedder)
    sections = Sections.of(groups, headings)
    report = np.arange(len(CATCH_ALL))
    # The vectors alone do not separate it: in the embedding it is one cloud, as the demo's Work
    # Programme theme is (the reason this step exists).
    assert split_catch_alls(clustering, X, min_size=4)[1] == 0
    assert section_z(X, report, groups, sections.keys) >= 3.0

    out, made = split_by_sections(clustering, X, groups, sections, TEXTS, encode=embedder.encode, min_size=4)
    assert made >= 1
    themes_of_report = set(out.labels[report].tolist())
    assert len(themes_of_report) >= 2
    # Split along the sections: each section's passages stay together.
    for heading in {h for _, h, _ in CATCH_ALL}:
        rows = [i for i, (_, h, _) in enumerate(CATCH_ALL) if h == heading]
        assert len(set(out.labels[rows].tolist())) == 1, (heading, out.labels[rows])
    # The interview themes are untouched, and every report passage is still placed.
    n = len(CATCH_ALL)
    assert (out.labels[n:] == clustering.labels[n:]).all()
    assert (out.labels[report] >= 0).all()
    assert out.stats["sections_split"] == made
    # Deterministic.
    again, _ = split_by_sections(clustering, X, groups, sections, TEXTS, encode=embedder.encode, min_size=4)
    assert (again.labels == out.labels).all()


def test_one_idea_a_report_returns_to_in_every_section_is_not_split(embedder):
    X, groups, headings, TEXTS, clustering = _corpus(ONE_IDEA, embedder)
    sections = Sections.of(groups, headings)
    report = np.arange(len(ONE_IDEA))
    # Its sections are written in different styles (background, survey figures, case studies,
    # recommendations), which the embedding sees (the section test may pass: z is near 3 here); cut
    # in the section view, its parts still share the idea's words, so it is not split.
    assert section_parts(section_view(X, sections, embedder.encode), report, TEXTS, 4) is None
    out, made = split_by_sections(clustering, X, groups, sections, TEXTS, encode=embedder.encode, min_size=4)
    assert made == 0
    assert (out.labels == clustering.labels).all()


def test_no_split_without_sections_or_texts_or_when_a_reviewer_holds_the_theme(embedder):
    X, groups, headings, TEXTS, clustering = _corpus(CATCH_ALL, embedder)
    none = Sections.of(groups, [None] * len(headings))
    assert split_by_sections(clustering, X, groups, none, TEXTS, encode=embedder.encode, min_size=4)[1] == 0
    assert split_by_sections(clustering, X, groups, None, TEXTS, min_size=4)[1] == 0
    sections = Sections.of(groups, headings)
    assert split_by_sections(clustering, X, groups, sections, None, encode=embedder.encode, min_size=4)[1] == 0
    held = np.full(len(groups), -1)
    held[: len(CATCH_ALL)] = 0  # a reviewer placed the report's passages in this theme
    assert split_by_sections(clustering, X, groups, sections, TEXTS, encode=embedder.encode, min_size=4, held=held)[1] == 0


def test_a_theme_from_many_sources_is_no_literature_catch_all(embedder):
    """The same passages, each from its own source: a recurring idea across sources, not one report's
    catch-all; the vector split judges it, not this step."""
    X, groups, headings, TEXTS, clustering = _corpus(CATCH_ALL, embedder)
    groups = groups.copy()
    groups[: len(CATCH_ALL)] = 100 + np.arange(len(CATCH_ALL))
    sections = Sections.of(groups, headings)
    assert split_by_sections(clustering, X, groups, sections, TEXTS, encode=embedder.encode, min_size=4)[1] == 0


def test_word_weights_are_scikit_learns_tf_idf():
    """The word test's TF-IDF, written out to keep scikit-learn out of discover, is scikit-learn's."""
    import warnings

    from sklearn.feature_extraction.text import TfidfVectorizer
    from spacy.lang.en.stop_words import STOP_WORDS

    from synth.section_split import word_weights

    texts = [t for _, _, t in CATCH_ALL + ONE_IDEA] + ["Pathways, Pathways and PATHWAYS again: 2 pathways."]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # spaCy's list holds "n't" forms the tokenizer never yields
        expected = TfidfVectorizer(stop_words=list(STOP_WORDS), sublinear_tf=True, min_df=2,
                                   max_df=0.5).fit_transform(texts).toarray()
    got = word_weights(texts).toarray()
    assert got.shape == expected.shape
    assert np.allclose(got, expected, atol=1e-6)
    assert word_weights(["one", "two"]) is None
