"""What an analyst notices in a theme's description (issue 13, items 4 and 5): top terms that are
phrases of the text, headline quotes that agree with the theme's stance, labels that carry the
theme's distinctive words and are said mostly inside it, stance links that share a topic of substance."""

from __future__ import annotations

import numpy as np

from synth.cluster import Clustering
from synth.label import _passage_terms, describe_themes
from synth.label_phrases import contradicts, phrase_labels, theme_stance
from synth.nlp import passage_terms
from synth.stance import shared_topic


def _clustering(theme_of: list[int], k: int, dim: int = 8, noise: float = 0.05) -> tuple[Clustering, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = np.eye(dim)[:k]
    labels = np.array(theme_of)
    X = centres[labels] + noise * rng.normal(size=(len(labels), dim))
    return Clustering(labels, labels.copy(), np.ones(len(labels)), centres.astype(np.float32), {}), X


def test_two_word_terms_stand_side_by_side_in_the_text():
    """'Transport's a big one' gave the top term 'transport big': the words are adjacent only once
    stop words are dropped. With the written forms, a two-word term must be a phrase of the text."""
    (terms,) = passage_terms(["Transport's a big one. The bus fare eats up a first wage."])
    without = _passage_terms(terms.lemmas)
    with_forms = _passage_terms(terms.lemmas, terms.forms, "Transport's a big one. The bus fare eats up a first wage.")
    assert "transport big" in without  # what the old rule kept
    assert "transport big" not in with_forms
    assert "bus fare" in with_forms and "transport" in with_forms and "big" in with_forms


def test_stance_of_a_theme_and_what_contradicts_it():
    assert theme_stance(["enabler", "enabler", "practice", "barrier", "context"]) == "enabler"
    assert theme_stance(["barrier", "barrier", "enabler"]) == "barrier"
    assert theme_stance(["barrier", "enabler"]) is None  # mixed: nothing contradicts it
    assert theme_stance(["context", None]) is None
    assert contradicts("barrier", "enabler") and contradicts("enabler", "barrier") and contradicts("practice", "barrier")
    assert not contradicts("context", "enabler") and not contradicts("barrier", None)


def test_a_passage_of_the_opposite_stance_is_never_the_headline_quote():
    texts = ["The bus fare eats up a first wage.",           # barrier, the most central passage
             "The shuttle bus from town lets me work nights.",
             "A shuttle bus from the station made it possible.",
             "Our shuttle bus runs for every shift change."]
    groups = np.array([0, 1, 2, 3])
    clustering, X = _clustering([0, 0, 0, 0], 1, noise=0.0)
    X = X + np.array([[0.0] * 8, [0, 0.5] + [0.0] * 6, [0, 0, 0.6] + [0.0] * 5, [0, 0, 0, 0.7] + [0.0] * 4])  # not near-duplicates
    lemmas = [t.lemmas for t in passage_terms(texts)]
    (plain,) = describe_themes(texts, clustering, X, groups, lemmas)
    assert plain.quote_indices[0] == 0  # without categories the most central passage heads the theme
    cats = ["barrier", "enabler", "enabler", "enabler"]
    (d,) = describe_themes(texts, clustering, X, groups, lemmas, categories=cats)
    assert d.quote_indices[0] != 0 and 0 in d.quote_indices  # still evidence, last
    assert d.quote_indices[-1] == 0


def _encode_bag(phrases: list[str]) -> np.ndarray:
    """A stand-in for the model that maps every phrase to the same point: the scores then come
    from recurrence, concentration and the theme's words alone."""
    return np.ones((len(phrases), 8), np.float32)


def test_label_is_said_mostly_inside_its_theme_and_never_only_by_the_other_stance():
    """'Work programme' is in every passage of a review about it: in two sources of theme 0, but
    in theme 1 too; 'council tax debt' is theme 0's own. And a phrase that only passages of the
    opposite stance use is no label for the theme."""
    texts = ["The work programme found council tax debt growing.",
             "Under the work programme, council tax debt kept rising.",
             "Council tax debt frightened families.",
             "The work programme says bus routes were cut.",
             "The work programme notes bus routes cut in 2019.",
             "Bus routes to the estate were cut again."]
    groups = np.array([0, 1, 2, 0, 1, 2])
    members = [np.array([0, 1, 2]), np.array([3, 4, 5])]
    centroids = np.eye(8, dtype=np.float32)[:2]
    X = centroids[[0, 0, 0, 1, 1, 1]]
    labels = phrase_labels(texts, members, centroids, X, groups, _encode_bag)
    assert labels[0].phrase.lower().startswith("council tax"), labels
    assert labels[1].phrase.lower() == "bus routes", labels
    # Theme 1 is an enabler theme: its two barrier passages say "bus routes", which the model puts
    # right at the theme's centre; still, a phrase only the other stance uses is not its label.
    texts2 = texts[:3] + ["Bus routes were cut.", "Bus routes to the estate were cut.",
                          "New shuttle services help.", "Shuttle services run at night.", "We love the shuttle services.",
                          "Evening classes help too."]
    groups2 = np.array([0, 1, 2, 0, 1, 0, 1, 2, 3])
    members2 = [np.array([0, 1, 2]), np.arange(3, 9)]
    X2 = centroids[[0, 0, 0, 1, 1, 1, 1, 1, 1]]
    cats = ["barrier"] * 3 + ["barrier", "barrier", "enabler", "enabler", "enabler", "enabler"]

    def encode(phrases: list[str]) -> np.ndarray:
        e1, e2 = np.eye(8, dtype=np.float32)[1], np.eye(8, dtype=np.float32)[2]
        return np.stack([e1 if "bus routes" in p.lower() else 0.6 * e1 + 0.8 * e2 for p in phrases])

    plain = phrase_labels(texts2, members2, centroids, X2, groups2, encode)
    assert plain[1].phrase.lower() == "bus routes", plain  # what the label was without categories
    labels = phrase_labels(texts2, members2, centroids, X2, groups2, encode, categories=cats)
    assert labels[1].phrase.lower() == "shuttle services", labels


def test_stance_siblings_need_a_topic_phrase_of_substance():
    """Two sides that share only a word the whole corpus uses ('jobcentre') are not linked; two that
    share a phrase said almost only by them ('shuttle bus') are, on that phrase."""
    filler = [f"The jobcentre helped with a {w} claim last year." for w in
              ("housing", "benefit", "pension", "sickness", "carer", "childcare", "council", "tax", "energy", "rent",
               "disability", "grant", "loan", "debt", "water", "phone")]
    sides = ["The shuttle bus from town ran at night, said the jobcentre.",
             "Our shuttle bus made night shifts possible for the jobcentre's customers.",
             "The jobcentre said the shuttle bus stopped and nobody could get there.",
             "When the shuttle bus stopped, the jobcentre lost placements."]
    texts = sides + filler
    groups = np.array([0, 1, 2, 3] + list(range(4, 4 + len(filler))))
    a, b = np.array([0, 1]), np.array([2, 3])
    assert shared_topic(texts, a, b, groups) == "shuttle bus"
    no_bus = [s.replace("shuttle bus", "van") for s in sides] + filler
    assert shared_topic(no_bus, a, b, groups) == ""  # "van" is said once a side, "jobcentre" everywhere


def test_a_definition_sentence_that_says_the_opposite_stance_is_passed_over():
    from synth.label_definition import quoted_definition

    text = ("The shuttle bus is too expensive and it does not go where the jobs are. "
            "The community transport scheme made the night shifts possible for me.")
    plain = quoted_definition([text], [0], ["survey"], "shuttle bus")
    assert plain.startswith("“The shuttle bus is too expensive")  # carries the label's words
    enabler = quoted_definition([text], [0], ["survey"], "shuttle bus", stance="enabler")
    assert enabler == "“The community transport scheme made the night shifts possible for me.” (survey)"
    barrier = quoted_definition([text], [0], ["survey"], "shuttle bus", stance="barrier")
    assert barrier.startswith("“The shuttle bus is too expensive")


def test_a_phrase_ending_in_a_verb_of_action_in_any_form_is_not_a_name():
    """'Wage came' (from "until my first wage came in") was a demo label: 'came' is 'come'."""
    from synth.label_phrases import noun_like

    assert not noun_like("wage came") and not noun_like("support offered") and not noun_like("coach spoke")
    assert noun_like("warehouse jobs") and noun_like("older men") and noun_like("shuttle bus from the town")


def test_a_label_is_found_only_where_its_words_stand_in_one_clause():
    # "Work Programme, providers" lists two things; it is not where "Work Programme providers" is said
    from synth.label_phrases import candidate_phrases
    from synth.label_spans import label_locations

    texts = ["Jobcentre Plus, the Work Programme, providers and employers.", "Work Programme providers said so.",
             "A work  programme\u00a0providers forum.", "Health & safety training."]
    assert [i for i, _, _ in label_locations("Work Programme providers", texts)] == [1, 2]
    assert label_locations("health safety", texts) == [(3, 0, 15)]
    assert "programme providers" not in candidate_phrases(texts[0])  # candidates stop at the same breaks


def test_a_label_taken_from_shouted_passages_is_not_shouted():
    from synth.label_phrases import _as_written

    shouted = ["TIME TO LEARN ABOUT MY CONDITION WAS TOO SHORT AT THE NHS CLINIC", "NOT ENOUGH TIME TO LEARN AT A&E"]
    assert _as_written("time to learn", shouted, [0, 1]) == "Time to learn"
    # acronyms keep their capitals even when the passage shouts
    assert _as_written("nhs clinic", shouted, [0]) == "NHS clinic"
    assert _as_written("learn at a&e", shouted, [1]) == "Learn at A&E"
    # a passage in ordinary case is preferred where one says the phrase
    mixed = shouted + ["We had no time to learn about the ESOL classes."]
    assert _as_written("time to learn", mixed, [0, 2]) == "Time to learn"
    assert _as_written("esol classes", ["The ESOL classes were full, and the waiting list was long."], [0]) == "ESOL classes"


def test_an_anonymisation_placeholder_is_no_label():
    """The trial of a second review labelled a theme of thanks to named staff "Dr XXXX": what was taken
    out of the comments is no theme's name."""
    from synth.label_phrases import candidate_phrases

    assert not any("xxxx" in p or "redacted" in p
                   for p in candidate_phrases("Thank you Dr XXXX and [name redacted] for the kind care."))
    texts = ["Dr XXXX was excellent and explained everything.", "Thank you Dr XXXX, so kind.",
             "Dr XXXX listened to my mother.", "Thank you to the friendly staff on the ward.",
             "Friendly staff explained everything to my mother."]
    groups = np.arange(5)
    centroids = np.eye(8, dtype=np.float32)[:1]
    (label,) = phrase_labels(texts, [np.arange(5)], centroids, centroids[[0] * 5], groups, _encode_bag)
    assert label.phrase.lower() == "friendly staff", label  # "Dr XXXX" before


def test_a_theme_of_nil_answers_is_labelled_by_the_nil_answer_most_give():
    """The trial of a second review: themes of survey replies saying there was nothing to report were
    labelled by what their words left over ("Comes mind" from "Nothing comes mind", "Good thank")."""
    from synth.categorise import categorise_passages
    from synth.embed import Embedder, resolve_model
    from synth.nlp import display_forms_of

    texts = ["Cannot think of anything", "Cannot think of anything.", "I can't think of anything, thank you",
             "Nothing comes to mind", "Good thank you, cannot think of anything",
             "The car park was full every time.", "Car park too small for the clinic.",
             "No spaces in the car park at all."]
    model = Embedder(resolve_model(), device="cpu")
    nil = [c.nil_answer for c in categorise_passages(texts, model.encode(texts))]
    assert nil[:5] == ["Cannot think of anything", "Cannot think of anything", "I can't think of anything",
                       "Nothing comes to mind", None] and nil[5:] == [None] * 3
    X = model.encode(texts)

    def clustered(theme_of: list[int]) -> Clustering:
        labels = np.array(theme_of)
        centres = np.stack([X[labels == j].mean(axis=0) for j in range(labels.max() + 1)]).astype(np.float32)
        return Clustering(labels, labels.copy(), np.ones(len(labels)), centres, {})

    clustering = clustered([0] * 5 + [1] * 3)
    terms = passage_terms(texts)
    groups = np.arange(8)
    args = (texts, clustering, X, groups, [t.lemmas for t in terms])
    kw = dict(forms=display_forms_of(terms), encode=model.encode, source_names=[f"s{i}" for i in range(8)])
    plain = describe_themes(*args, **kw)
    assert "think of anything" not in plain[0].label.lower()  # what the words alone gave
    nil_theme, car_park = describe_themes(*args, **kw, nil_answers=nil)
    assert nil_theme.label == "Cannot think of anything" and nil_theme.label_passages == (0, 1)
    assert car_park.label == plain[1].label  # a theme of few nil answers keeps its own label
    # a second theme of nil answers takes the next phrase its replies give, not the same label
    first, second, _ = describe_themes(texts, clustered([0, 0, 1, 1, 1, 2, 2, 2]), X, groups, [t.lemmas for t in terms], **kw,
                                       nil_answers=nil)
    assert first.label == "Cannot think of anything" and second.label == "I can't think of anything"


def test_a_phrase_its_passages_go_on_from_with_of_is_half_a_name():
    """The trial of a second review labelled a theme "Time spent in development and lack" (then
    "Development and lack"): both passages go on "… and lack of proper review"."""
    from synth.label_phrases import _cut_short

    texts = ["Insufficient time spent in development and lack of proper review",
             "Insufficient time spent in elicitation development and lack of proper review",
             "No proper review of requirements."]
    assert _cut_short("development and lack", texts, [0, 1])
    assert not _cut_short("proper review", texts, [0, 1, 2])  # goes on with nothing, or "of" once in three
    assert not _cut_short("time spent", texts, [0, 1])  # "in": a stop word other than "of" says nothing
    assert not _cut_short("higher education act", ["The Higher Education Act of 1965.", "Higher Education Act of 1965"], [0, 1])
    assert not _cut_short("took good care", ["They took good care of me", "Staff took good care of my mum"], [0, 1])


def test_a_label_is_written_as_a_passage_in_ordinary_case_writes_it():
    """One NHS trust's comments type every "i" as "I": the trial's labels read "FrIendly and
    proffesIonal" and "AppoIntment tImes" where other passages wrote the phrase in ordinary case."""
    from synth.label_phrases import _as_written, odd_case

    texts = ["AppoIntment tImes were too far apart", "Appointment times were too far apart", "NHS appointment times"]
    assert _as_written("appointment times", texts, [0, 1, 2]) == "Appointment times"
    assert _as_written("appointment times", texts[:1], [0]) == "AppoIntment tImes"  # verbatim when nothing else says it
    assert _as_written("nhs appointment", texts, [2]) == "NHS appointment"  # acronyms are not odd case
    assert odd_case("FrIendly") and not odd_case("NHS") and not odd_case("ESOL classes")


def _model_themes(texts: list[str], theme_of: list[int]):
    """(description args, keywords) for `texts` clustered as `theme_of`, with the bundled model's vectors."""
    from synth.embed import Embedder, resolve_model
    from synth.nlp import display_forms_of

    model = Embedder(resolve_model(), device="cpu")
    X = model.encode(texts)
    labels = np.array(theme_of)
    centres = np.stack([X[labels == j].mean(axis=0) for j in range(labels.max() + 1)]).astype(np.float32)
    clustering = Clustering(labels, labels.copy(), np.ones(len(labels)), centres, {})
    terms = passage_terms(texts)
    args = (texts, clustering, X, np.arange(len(texts)), [t.lemmas for t in terms])
    kw = dict(forms=display_forms_of(terms), encode=model.encode, source_names=[f"s{i}" for i in range(len(texts))])
    return args, kw, model


def test_a_theme_whose_words_are_all_stop_words_is_labelled_by_its_central_quote():
    """A survey-only project (docs/benchmarks.md, "Nil answers and plain-praise labels") had a theme of
    "Because it was very good" answers labelled "unlabelled theme": no phrase or keyword survives the stop
    words. It takes the key phrase of its most central quote, verbatim, and never "unlabelled theme"."""
    texts = ["Because it was very good", "Because it was very good.", "Because they were brilliant",
             "Because I was happy with what had been done.",
             "The car park was full every time.", "Car park too small for the clinic.",
             "No spaces in the car park at all."]
    args, kw, _ = _model_themes(texts, [0, 0, 0, 0, 1, 1, 1])
    because, car_park = describe_themes(*args, **kw)
    assert because.label != "unlabelled theme" and because.label in ("Very good", "Brilliant")
    assert because.label_passages and all(because.label.lower() in texts[i].lower() for i in because.label_passages)
    assert "car park" in car_park.label.lower()  # a theme with a phrase keeps it
    (keywords_only,) = describe_themes(texts[:4], Clustering(np.zeros(4, int), np.zeros(4, int), np.ones(4),
                                                               args[1].centroids[:1], {}),
                                       args[2][:4], np.arange(4), args[4][:4])
    assert keywords_only.label  # without the model: the keyword label, as before


def test_a_theme_with_keywords_but_no_phrase_is_labelled_by_its_central_quote_not_a_keyword_list():
    """nhs2651 had a theme labelled "ok, perfect, fine" and the survey-only project one labelled "thank, dr,
    excellent care": no candidate phrase passed, and two or more keywords stood in as a list, which the
    issue rules out. The central quote's key phrase comes first; the keywords stay the top terms."""
    texts = ["It was ok.", "All perfect.", "Everything was fine.", "Ok.", "It was perfect", "Fine",
             "Was fine and ok",
             "The car park was full every time.", "Car park too small for the clinic.",
             "No spaces in the car park at all."]
    args, kw, _ = _model_themes(texts, [0] * 7 + [1] * 3)
    plain, car_park = describe_themes(*args, **kw)
    assert ", " not in plain.label and plain.label != "unlabelled theme"
    assert plain.label_passages and all(plain.label.lower() in texts[i].lower() for i in plain.label_passages)
    assert {"fine", "ok", "perfect"} <= set(plain.top_terms)
    assert "car park" in car_park.label.lower()


def test_a_theme_of_i_dont_think_so_is_labelled_by_it():
    """The same project labelled a theme of "I don't think so" answers "think": the nil answers the
    lexicon missed (the fourth pass), so the label fell to the one word left."""
    from synth.categorise import categorise_passages

    texts = ["I don't think so.", "I don’t think so at all", "I don’t think so", "I don't know.",
             "The car park was full every time.", "Car park too small for the clinic.",
             "No spaces in the car park at all."]
    args, kw, model = _model_themes(texts, [0, 0, 0, 0, 1, 1, 1])
    nil = [c.nil_answer for c in categorise_passages(texts, model.encode(texts))]
    assert nil[:3] == ["I don't think so", "I don’t think so at all", "I don’t think so"] and nil[3:] == [None] * 4
    theme, _ = describe_themes(*args, **kw, nil_answers=nil)
    assert theme.label in ("I don't think so", "I don’t think so")


def test_a_bare_no_is_no_label_for_a_theme_of_nil_answers():
    """The same project labelled a theme of "Nothing been happy with everything" answers "No": its
    commonest nil phrase, "Nothing", labelled another theme, and the next was the "No" of "No, been happy
    with everything". A bare "No" names nothing; the theme keeps a phrase of its own."""
    from synth.categorise import categorise_passages

    texts = ["Nothing.", "Nothing at all", "Nothing, all good", "Nothing.",
             "Nothing been happy with everything", "Nothing been happy with everything",
             "No, been happy with everything.", "No, been happy with everything",
             "The car park was full every time.", "Car park too small for the clinic.",
             "No spaces in the car park at all."]
    args, kw, model = _model_themes(texts, [0] * 4 + [1] * 4 + [2] * 3)
    nil = [c.nil_answer for c in categorise_passages(texts, model.encode(texts))]
    assert nil[4:8] == ["Nothing", "Nothing", "No", "No"]
    nothing, happy, _ = describe_themes(*args, **kw, nil_answers=nil)
    assert nothing.label == "Nothing"
    assert happy.label == "Happy with everything" and happy.label_passages == (4, 5, 6, 7)


def test_a_label_may_end_with_everything_after_a_preposition():
    """NHS replies say "Happy with everything" 30 times; "everything" is a spaCy stop word, so no label
    could end with it and the theme of those replies was labelled "NIce people". After a preposition it
    may close a label; after a verb it names a detail ("Explained everything") and still may not."""
    from synth.label_phrases import candidate_phrases

    assert "happy with everything" in candidate_phrases("Nothing, been happy with everything.")
    assert "friendly to everyone" in candidate_phrases("The nurses were friendly to everyone")
    assert not any(p.endswith("everything") for p in candidate_phrases("Very friendly and explained everything clearly."))
