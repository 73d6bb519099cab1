"""What `categorise` reads: a cue lexicon and prototype statements, one set per category.

Both are written by hand for evidence about public services and work in general (employment
support, health, housing, education, workplaces), not taken from any evaluation set, so that the
method has to tell statement *types* apart rather than recognise one field's vocabulary.

Cue phrases are matched over lemmas: "struggled to" is written "struggle to" once and matches
"struggles to", "struggling to" and "struggled to". Weights are 1.0 for a cue that decides a
category on its own ("lack of", "should", "worked well") and 0.5 for one that only leans
("support", "problem", "not").

Over 450 lines because it is data, not logic: the cue lexicon, prototypes, templates, question cues
and the nil-answer patterns are kept together so that they are read and revised as one lexicon.
"""

from __future__ import annotations

# (phrase, weight) per category. Phrases are lemmatised by the same pipeline as the passages.
CUES: dict[str, tuple[tuple[str, float], ...]] = {
    "barrier": (
        ("lack of", 1.0), ("lack", 1.0), ("lacking", 1.0), ("a lack", 1.0),
        ("struggle to", 1.0), ("struggle with", 1.0), ("struggle", 1.0),
        ("difficult", 1.0), ("difficulty", 1.0), ("hard to", 1.0), ("hard for", 1.0),
        ("unable to", 1.0), ("can not", 1.0), ("cannot", 1.0), ("could not", 1.0), ("can't", 1.0),
        ("couldn't", 1.0),
        ("not able to", 1.0), ("impossible", 1.0),
        ("not enough", 1.0), ("too much", 1.0), ("too many", 1.0), ("too little", 1.0),
        ("too few", 1.0), ("too long", 1.0), ("too slow", 1.0), ("too late", 1.0),
        ("insufficient", 1.0), ("inadequate", 1.0), ("poor", 1.0), ("poorly", 1.0),
        ("bad", 1.0), ("badly", 1.0), ("worse", 1.0), ("fail", 1.0), ("failure", 1.0),
        ("barrier", 1.0), ("obstacle", 1.0), ("hinder", 1.0), ("hamper", 1.0),
        ("frustrating", 1.0), ("frustrate", 1.0), ("frustration", 1.0),
        ("confusing", 1.0), ("confuse", 1.0), ("unclear", 1.0), ("not clear", 1.0),
        ("discrimination", 1.0), ("discriminate", 1.0), ("racism", 1.0), ("prejudice", 1.0),
        ("bias", 0.5), ("stigma", 1.0), ("exclude", 1.0), ("isolated", 1.0),
        ("delay", 1.0), ("waste", 1.0), ("rework", 1.0), ("burden", 1.0), ("bureaucracy", 1.0),
        ("red tape", 1.0), ("overload", 1.0), ("overwhelm", 1.0), ("overwhelmed", 1.0),
        ("chaotic", 1.0), ("chaos", 1.0), ("mess", 1.0), ("messy", 1.0),
        ("missing", 1.0), ("miss", 0.5), ("lose", 0.5), ("complain", 1.0), ("complaint", 1.0),
        ("dissatisfied", 1.0), ("unhappy", 1.0), ("disappointed", 1.0), ("afraid", 0.5),
        ("problem", 0.5), ("issue", 0.5), ("challenge", 0.5), ("challenging", 1.0),
        ("limited", 0.5), ("rarely", 0.5), ("only", 0.5), ("expensive", 1.0), ("costly", 1.0),
        ("ignore", 1.0), ("unrealistic", 1.0), ("vague", 1.0), ("inconsistent", 1.0),
        ("conflict", 0.5), ("pressure", 0.5), ("rush", 0.5), ("rushed", 1.0), ("tight", 0.5),
        ("unfortunately", 1.0), ("nobody", 1.0), ("no one", 1.0), ("nothing", 0.5),
        ("rude", 1.0), ("unhelpful", 1.0), ("dismissive", 1.0), ("disrespectful", 1.0), ("unfair", 1.0),
        ("wait", 0.5), ("waiting list", 1.0), ("long wait", 1.0), ("queue", 0.5), ("cancel", 1.0),
        ("understaffed", 1.0), ("short-staffed", 1.0), ("shortage", 1.0), ("gap", 0.5), ("cut", 0.5),
        ("inaccessible", 1.0), ("unaffordable", 1.0), ("stressful", 1.0), ("stress", 0.5), ("upset", 1.0),
        ("worried", 0.5), ("anxious", 0.5), ("terrible", 1.0), ("awful", 1.0), ("horrible", 1.0),
        ("nightmare", 1.0), ("slow", 1.0), ("late", 0.5), ("hard", 0.5), ("reluctant", 1.0),
        # How evaluation reports word a shortfall ("the evidence was patchy", "deficiencies in communication").
        ("patchy", 1.0), ("deficiency", 1.0), ("reluctance", 1.0), ("at odds with", 1.0), ("undermine", 1.0),
        ("weak", 1.0), ("difficulty", 1.0), ("constraint", 1.0),
        # Fear keeps people away ("frightened of making a mistake", "scared of being sanctioned");
        # "afraid" stays 0.5 for its polite use ("I'm afraid I don't know").
        ("frightened", 1.0), ("frighten", 1.0), ("scared", 1.0), ("scare", 1.0), ("fear", 1.0),
        ("fearful", 1.0), ("terrified", 1.0), ("nervous", 0.5),
        # Losing one's (welfare) benefits: the loss, not an advantage (see NEUTRAL_PHRASES).
        ("lose benefit", 1.0), ("lose their benefit", 1.0), ("lose your benefit", 1.0), ("lose my benefit", 1.0),
        ("lose his benefit", 1.0), ("lose her benefit", 1.0),
        # Being turned away or treated worse ("after one or two rejections like that, many stop applying").
        ("rejection", 1.0), ("reject", 0.5), ("treat differently", 1.0), ("treated differently", 1.0),
        ("uncomfortable", 1.0),
        ("never", 0.5), ("without", 0.5), ("no", 0.5), ("not", 0.5),
    ),
    "enabler": (
        ("help", 1.0), ("helpful", 1.0), ("helped", 1.0), ("supportive", 1.0),
        ("work well", 1.0), ("go well", 1.0), ("well", 0.5), ("good", 1.0), ("great", 1.0),
        ("excellent", 1.0), ("positive", 1.0), ("clear", 1.0), ("clearly", 1.0),
        ("easy", 1.0), ("easily", 1.0), ("effective", 1.0), ("effectively", 1.0),
        ("successful", 1.0), ("success", 1.0), ("succeed", 1.0), ("benefit", 1.0),
        ("beneficial", 1.0), ("useful", 1.0), ("valuable", 1.0), ("enable", 1.0),
        ("allow", 1.0), ("make it possible", 1.0), ("able to", 1.0), ("manage to", 1.0),
        ("encourage", 1.0), ("motivate", 1.0), ("motivated", 1.0), ("confidence", 0.5),
        ("confident", 1.0), ("trust", 0.5), ("understanding", 0.5), ("flexible", 1.0),
        ("flexibility", 1.0), ("friendly", 1.0), ("welcoming", 1.0), ("respect", 0.5),
        ("satisfied", 1.0), ("happy", 1.0), ("appreciate", 1.0), ("thanks to", 1.0),
        ("thank to", 1.0), ("value", 0.5), ("strong", 0.5), ("closely", 0.5),
        ("kind", 1.0), ("caring", 1.0), ("polite", 1.0), ("professional", 0.5), ("patient", 0.5),
        ("respectful", 1.0), ("reassuring", 1.0), ("quick", 0.5), ("quickly", 0.5), ("prompt", 1.0),
        ("on time", 0.5), ("listen to", 0.5), ("feel welcome", 1.0), ("grateful", 1.0), ("thank you", 1.0),
        ("lovely", 1.0), ("brilliant", 1.0), ("fantastic", 1.0), ("amazing", 1.0), ("nice", 1.0),
        ("accessible", 1.0), ("affordable", 1.0), ("convenient", 1.0), ("reliable", 1.0),
        ("smooth", 1.0), ("smoothly", 1.0), ("efficient", 1.0),
        # Praise words patients use (read from NHS replies the rule for nil answers missed; not "pleased":
        # its lemma "please" would match every polite request).
        ("perfect", 1.0), ("wonderful", 1.0), ("superb", 1.0), ("marvellous", 1.0), ("outstanding", 1.0),
        ("exceptional", 1.0), ("first class", 1.0), ("attentive", 1.0),
        ("compassionate", 1.0), ("considerate", 1.0), ("well look after", 1.0), ("spot on", 1.0),
        # Praise said through a negation ("could not fault", "couldn't have been better"): matched
        # whole, so that "fault" and a negated "better" do not count as a shortfall.
        *((f"{can} {what}", 1.0) for can in ("could not", "couldn't", "couldn’t", "can not", "can't", "can’t")
          for what in ("fault", "have been better", "be better", "ask for more", "praise enough",
                       "praise them enough", "have done better", "have done any better",
                       "have done anything better", "have done anymore", "have done any more",
                       "do better", "do any better", "do anything better", "ask for better",
                       "have asked for better", "wish for better", "have wished for better", "do more",
                       "improve")),
        ("cannot fault", 1.0),
        # "Nothing was too much trouble": praise, not "too much" (third pass, see NIL_ANSWER).
        ("nothing be too much trouble", 1.0), ("nothing too much trouble", 1.0), ("nothing be too much", 1.0),
        ("well defined", 1.0), ("well organised", 1.0), ("well organized", 1.0),
        ("keep me going", 1.0), ("make a difference", 1.0), ("key to", 1.0),
        # With another determiner or an intensifier ("that made the difference", "a huge difference").
        *((f"make {what} difference", 1.0) for what in ("the", "all the", "a real", "a big", "a huge")),
        ("improve", 0.5), ("improvement", 0.5), ("better", 0.5),
    ),
    "practice": (
        ("should", 1.0), ("ought to", 1.0), ("need to", 1.0), ("there need to be", 1.0),
        ("must", 1.0), ("recommend", 1.0), ("recommendation", 1.0), ("suggest", 1.0),
        ("propose", 1.0), ("good practice", 1.0), ("best practice", 1.0),
        ("could be adopt", 1.0), ("could be use", 1.0), ("could be roll out", 1.0),
        ("could be extend", 1.0), ("could adopt", 1.0), ("could use", 1.0), ("roll out", 1.0),
        ("scale up", 1.0), ("would be good", 1.0), ("would be well", 1.0),
        ("would be better", 1.0), ("would be nice", 1.0), ("it would be nice", 1.0), ("could do with", 1.0),
        ("would benefit from", 1.0), ("could be improve", 1.0), ("could be better", 1.0), ("if only", 1.0),
        ("suggestion", 1.0), ("please", 0.5), ("hope", 0.5), ("would help", 1.0), ("would like", 1.0), ("i wish", 1.0),
        ("it be important to", 1.0), ("important to", 1.0), ("essential to", 1.0),
        ("it be worth", 1.0), ("make sure", 1.0), ("ensure", 0.5), ("consider", 0.5),
        ("introduce", 1.0), ("implement", 1.0), ("implementation", 0.5), ("adopt", 1.0),
        ("establish", 1.0), ("set up", 1.0), ("start", 0.5), ("begin", 0.5),
        ("switch to", 1.0), ("move to", 1.0), ("change", 0.5), ("invest in", 1.0),
        ("hire", 1.0), ("recruit", 1.0), ("appoint", 1.0), ("bring in", 1.0), ("decide to", 1.0),
        ("reorganise", 1.0), ("reorganize", 1.0), ("restructure", 1.0), ("replace", 0.5), ("redesign", 1.0),
        ("we now", 1.0), ("now we", 1.0), ("since we", 1.0), ("after we", 1.0),
        ("instead of", 0.5), ("rather than", 0.5),
    ),
    "context": (
        ("per cent", 1.0), ("percent", 1.0), ("%", 1.0), ("aged", 1.0), ("age", 0.5),
        ("between", 0.5), ("year", 0.5), ("live in", 1.0),
        ("work as", 1.0), ("born in", 1.0), ("participant", 0.5), ("respondent", 1.0),
        ("the survey", 1.0), ("the interview", 0.5), ("be conduct", 1.0), ("operate in", 1.0),
        ("run in", 1.0), ("consist of", 1.0), ("compose of", 1.0), ("majority of", 1.0),
        ("most of the", 0.5), ("locate", 1.0), ("population", 1.0), ("household", 0.5),
        # Research design and publication, as evaluation reports describe them.
        ("methodology", 1.0), ("fieldwork", 1.0), ("commission", 1.0), ("case study", 0.5),
        ("qualitative", 0.5), ("quantitative", 0.5), ("this report", 1.0), ("the report", 0.5),
        ("the study", 1.0), ("the research", 0.5), ("the evaluation", 0.5), ("publish", 1.0),
        ("website", 1.0), ("in-depth interview", 1.0), ("research report", 1.0),
    ),
}

# Phrases that contain a cue word but say nothing about the category ("as well as"): matched so
# that the longer phrase wins and the cue inside it does not count.
NEUTRAL_PHRASES = (
    "as well", "as well as", "not only", "no matter", "no doubt", "whether or not", "if not", "or not",
    "no longer", "well known", "good deal", "more or less", "at least", "first of all", "would say",
    "to be honest", "so far", "only if",
    # "pleased" (lemma "please") glad, not a polite request: "Been pleased with everything" asks for nothing.
    "be please", "please with",
    # "caring" the adjective praises; "caring responsibilities" (looking after someone) does not.
    "caring responsibilities", "caring responsibility", "caring role", "caring duties",
    # "kind" the adjective praises; "that kind of experience" does not.
    "kind of", "that kind", "this kind", "what kind", "some kind", "any kind", "all kind", "the kind",
    # "benefit" the advantage is an enabler cue; benefits one lives on (welfare) are not.
    "their benefit", "on benefit", "claim benefit", "claiming benefit", "benefit claimant", "benefit claim",
    "benefit system", "benefit sanction", "benefit payment", "benefit office", "benefit cap", "benefit rule",
    # ("housing benefit" is left out for now: on the demo it turns a drop-in passage ("will I lose my
    # housing benefit") from enabler to practice, the mentoring theme then splits by stance, and its
    # practice side finds no unique label phrase (a label_phrases matter; see docs/benchmarks.md).)
    "out-of-work benefit", "out of work benefit", "in-work benefit", "welfare benefit",
    "sickness benefit", "disability benefit", "child benefit", "unemployment benefit", "receive benefit",
    "receiving benefit", "benefit entitlement",
)

# Base-form verbs that open an instruction ("Offer evening sessions."): a practice when a sentence
# starts with one. Verbs that are also common nouns at a sentence start ("Support was good") are
# left out.
IMPERATIVE_VERBS = frozenset("""
    add adopt agree allocate allow appoint ask avoid build bring change check clarify collect
    communicate consider continue coordinate create define deliver develop employ enable encourage
    engage ensure establish expand extend focus follow get give hire improve include increase
    introduce invest involve keep let listen make monitor move offer organise organize pair
    prioritise prioritize promote provide put recognise recognize recruit reduce share simplify
    start stop streamline take talk teach translate try use write
""".split())
# ... unless the next word shows the opener is a noun or a statement ("Change was slow", "Use of").
NOT_AFTER_IMPERATIVE = frozenset("""
    is was are were has had have of 's and or can could will would may might did does do to
""".split())

# Words that open an elliptical request for change ("More evening sessions", "Better pay").
REQUEST_OPENERS = frozenset("more better less fewer clearer earlier longer shorter smaller bigger".split())

# Gerunds that open a description of what was done ("Using a shared checklist ..."): a lean to practice.
PRACTICE_GERUNDS = frozenset("""
    using introducing adopting implementing involving holding pairing running setting switching
    moving changing hiring training appointing establishing creating starting
""".split())

# Words (lemmas) that open a wish or a demand ("We need better documentation", "I would like a
# clearer process", "They should be more flexible"): an enabler word shortly after one, in the
# same clause, describes the state wanted, not the present, so it counts for practice.
WISH_TRIGGERS = frozenset("should must need ought wish want hope prefer".split())
WISH_PHRASES = (("would", "like"), ("would", "love"), ("would", "be"), ("could", "be"), ("if", "only"))
WISH_WINDOW = 5  # tokens after the trigger ("People who need help found the adviser supportive": not a wish)

# Tokens (lemmas) that negate a cue which follows within NEGATION_WINDOW tokens in the same clause.
NEGATORS = frozenset("not no never without nobody nothing none neither nor hardly barely lack absence".split())
NEGATION_WINDOW = 3
# A negation's scope ends at these tokens (a new clause says something else).
SCOPE_BREAKS = frozenset(". , ; : ! ? but however although though while whereas because so".split())

# Contrast: in "The staff were lovely but the wait was long" the clause after the contrast word says
# what the reply is about; what comes before it is conceded. Cues before one of these words in its
# sentence, or in the sentence before a "But"/"However" that opens the next (not at the passage's
# start: "But overall good" turns nothing round), count CONCEDED_FACTOR of their weight; so do the
# cues of a clause opened by CONCESSIVE_OPENERS at a sentence's start, up to its comma ("Although the wait was long, the staff were lovely"). Not a contrast: "nothing but praise",
# "not only … but", "but also", "but for", and "though" or "however" closing a sentence ("Good though.").
CONTRAST_WORDS = frozenset("but however although though whereas".split())
CONCESSIVE_OPENERS = frozenset("although though whilst while despite".split())
NOT_CONTRAST_BEFORE = frozenset("nothing anything all none last".split())  # "nothing but praise", "last but not least"
NOT_CONTRAST_AFTER = frozenset("also for".split())
CONCEDED_FACTOR = 0.25
# Only in a reply-sized passage ("X was good but Y was not"): an interview turn or a report paragraph makes
# several points, and conceding one clause of it tipped a demo passage about unrecognised qualifications
# from barrier to practice (docs/benchmarks.md, "Contrast and nil answers, third pass").
CONTRAST_MAX_SENTENCES = 3

# The short, prototypical statements that `categorise` compares passages with in embedding space.
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "barrier": (
        "There was no contact with employers at any point.",
        "Lack of affordable transport to the site.",
        "We struggled to get enough staff to run the sessions.",
        "The waiting list was so long that people gave up.",
        "Nobody explained what would happen next, so I felt lost.",
        "Language was a big problem; the forms were only in English.",
        "Too much paperwork and not enough time with clients.",
        "The course was cancelled twice and never rescheduled.",
        "Managers did not listen to the concerns raised by frontline staff.",
        "Poor communication between the two teams caused delays.",
        "People with disabilities found the building hard to access.",
        "Stakeholders kept changing their minds, which meant constant rework.",
        "Eligibility rules shut out anyone who had been unemployed for less than six months.",
        "The tool we were told to use is slow and full of bugs.",
        "Staff turnover was high, so families had to repeat their story to each new worker.",
        "My previous experience abroad counted for nothing here.",
        "There is no budget for interpreters.",
        "Racism from customers made the job unbearable.",
        "The appointments clashed with my caring responsibilities.",
        "The information on the website was out of date and contradictory.",
        "Workers are not given the training they need.",
        "Targets pushed advisers to focus on quick wins rather than on people furthest from work.",
        "Little coordination between the council and the health service.",
        "The team is inexperienced and nobody has done this kind of work before.",
        "Decisions are made at the top with no input from users.",
        "I could not afford the fees for the certificate.",
        "Broadband in the village is unreliable, so online courses were not an option.",
        "Priorities are not clear and change every week.",
        "Benefit rules meant taking a few hours of work left me worse off.",
        "The scheme was underfunded from the start.",
        "Young people did not trust the service after bad experiences in the past.",
        "Requirements are vague and incomplete.",
        "Lots of duplication and wasted effort across departments.",
        "Employers were reluctant to take on people with a criminal record.",
        "Short-term contracts made it impossible to plan ahead.",
        "Everything takes ages because every decision needs three signatures.",
        "Clients often dropped out because the sessions were at inconvenient times.",
        "No follow-up after the placement ended.",
        "Misunderstandings between the client and the supplier.",
        "Childcare costs are a major obstacle for single parents.",
    ),
    "enabler": (
        "The support worker was always there when I needed her.",
        "We have a good relationship with our partners and talk every week.",
        "It worked well because everyone knew their role.",
        "Having someone from my own community as a mentor gave me confidence.",
        "The staff were friendly and treated me with respect.",
        "Close working with local employers meant that vacancies were real.",
        "The team is experienced and communicates openly.",
        "Clear goals and a supportive manager.",
        "The flexible timetable let me fit the course around my job.",
        "Because the service was free, more people were willing to try it.",
        "The interpreter made the appointments much easier.",
        "Users are involved from the beginning, so there are few surprises.",
        "Regular feedback kept everyone on the same page.",
        "Funding was secure for five years, which gave the project stability.",
        "My adviser believed in me and that made all the difference.",
        "Good cooperation between departments.",
        "The training was hands-on and relevant to the jobs on offer.",
        "Everyone is committed and motivated to make it succeed.",
        "We have well-documented processes that new staff can follow.",
        "The venue was close to home and easy to reach by bus.",
        "Peer support groups reduced isolation and helped people stay on the programme.",
        "The employer adapted the role to my needs.",
        "Strong leadership gave the partnership direction.",
        "Trust between the families and the workers grew over time.",
        "The customer knows exactly what they want.",
        "Information was available in several languages.",
        "We get quick answers when we have questions.",
        "Small caseloads meant advisers could spend real time with each person.",
        "The tools we use make it easy to keep track of changes.",
        "Support continued after people started work, so fewer dropped out.",
        "I was satisfied because my needs were met.",
        "Things run smoothly and deadlines are met.",
        "A dedicated contact person for each family.",
        "The grant covered travel costs, so cost was not an issue.",
        "Volunteers who had been through the same situation were very encouraging.",
        "Managers listened and acted on what we told them.",
        "The evaluation found the scheme increased employment among participants.",
        "Because we have a stable team that knows the domain well.",
        "The process is simple and everyone understands it.",
        "Being able to ask questions in my own language helped a lot.",
    ),
    "practice": (
        "Services should be offered in the evenings and at weekends.",
        "We recommend that every participant has one named contact throughout.",
        "Employers need to be trained to recognise qualifications gained abroad.",
        "Provide childcare on site during the sessions.",
        "Funding should be guaranteed for longer than one year.",
        "Involve users in designing the service from the start.",
        "The mentoring model is good practice and could be adopted elsewhere.",
        "More time for each appointment.",
        "Better coordination between agencies.",
        "We introduced a weekly meeting with all partners, and things improved.",
        "The council should publish data on outcomes by ethnicity.",
        "Hire staff who reflect the communities they serve.",
        "We changed to shorter cycles with feedback after each one.",
        "It would be better to agree priorities before starting the work.",
        "Simplify the application form and remove jargon.",
        "A new manager arrived and reorganised how the team works.",
        "Training for all staff on cultural awareness.",
        "Start with a pilot in one area, then scale up what works.",
        "Commissioners ought to pay providers for sustained outcomes.",
        "We started sending reminders by text message the day before each appointment.",
        "Outreach should take place where people already go, such as places of worship and markets.",
        "Clearer guidance for frontline staff.",
        "Schools must work more closely with parents.",
        "Appoint a coordinator to link the different services.",
        "After the review we set up a single point of contact for referrals.",
        "Use plain language in all letters.",
        "The project now holds a workshop with stakeholders before each phase.",
        "Offer paid work placements rather than unpaid ones.",
        "It is important to follow up with people after they leave the programme.",
        "Managers should make time for regular one-to-one meetings.",
        "Invest in tools that let teams share information.",
        "Policy makers should consider extending the scheme to older workers.",
        "Following a structured method for collecting requirements.",
        "We adopted a shared case management system across partners.",
        "Translate key documents into the main community languages.",
        "Every team should document its decisions.",
        "Make the eligibility rules simpler so that more people qualify.",
        "Employers could use anonymised applications to reduce bias.",
        "There needs to be more investment in adult education.",
        "Gradually we moved to agreeing goals together with the client.",
    ),
    "context": (
        "I came to the UK in 2012 and live with my husband and three children.",
        "The programme ran in five areas between 2016 and 2019.",
        "About two thirds of participants were men aged 18 to 24.",
        "I have worked as a nurse for fifteen years.",
        "The survey had 412 responses.",
        "The team consists of eight people in two offices.",
        "Interviews lasted about an hour and were recorded with consent.",
        "The service is delivered by a charity under contract to the council.",
        "Most respondents work in manufacturing or retail.",
        "The area has a large Pakistani and Bangladeshi population.",
        "Participants are referred by the job centre.",
        "The study used administrative data for 3,000 claimants.",
        "We are a medium-sized company in the logistics sector.",
        "The project is in its second year.",
        "My role is project manager.",
        "The evaluation compared outcomes with a matched group of non-participants.",
        "The funding comes from the European Social Fund.",
        "She grew up in Birmingham and left school at sixteen.",
        "In 2020, 45% of adults in the borough were economically inactive.",
        "The sessions take place on Tuesday mornings.",
        "The organisation was founded in 1998.",
        "He is currently looking for work in construction.",
        "We develop software for banks.",
        "Each cohort has around twenty people.",
        "The scheme covers the north of the county.",
        # How the evidence was gathered: evaluation reports describe their own design at length,
        # and that is context for a review, not a finding.
        "The department commissioned an independent research team to carry out a qualitative evaluation.",
        "Fieldwork took place in six districts between March and June.",
        "The research methodology combined management information with in-depth interviews.",
        "This report presents findings from the second stage of the evaluation.",
        "The aims of this stage of the research were to explore delivery and early outcomes.",
        "A case study approach was taken, focusing on four areas.",
        "The full report is published by the department and available on its website.",
    ),
}


# Statement forms crossed with everyday topics. Every topic appears under every category, so the
# topic of a passage cannot decide its category; only the form of the statement can. Written once
# here; `template_statements()` expands them.
TOPICS = (
    "communication", "funding", "training", "childcare", "transport", "support from managers",
    "contact with employers", "documentation", "staff", "time with each client", "feedback",
    "information", "guidance", "mentoring", "coordination between teams", "tools", "planning",
    "language support", "involvement of users", "leadership", "trust", "flexibility", "outreach",
    "resources", "the referral process", "the application process", "advice", "help with travel costs",
    "follow-up", "cooperation with partners", "the budget", "deadlines", "the IT system",
    "contact with clients", "the project manager",
)
TEMPLATES: dict[str, tuple[str, ...]] = {
    "barrier": (
        "Lack of {t}.", "There was no {t}.", "Not enough {t}.", "Poor {t}.", "{T} is a real problem.",
        "We struggled with {t}.", "{T} was missing.", "Too little {t}.", "{T} is inadequate.",
        "{T} is unclear and inconsistent.", "{T} caused delays.", "We could not get {t}.",
        "{T} did not help.", "Without {t} people gave up.", "{T} was a barrier for many people.",
    ),
    "enabler": (
        "Good {t}.", "{T} helped a lot.", "{T} works well.", "We have excellent {t}.",
        "Thanks to {t}, things went smoothly.", "{T} made it easier.", "Strong {t}.",
        "{T} is clear and useful.", "We benefit from {t}.", "{T} gave people confidence.", "{T} was great.",
        "Because {t} is good.", "{T} made a real difference.", "We are happy with {t}.",
        "{T} enabled people to stay on the programme.",
    ),
    "practice": (
        # Bare requests and instructions ("More {t}.", "Provide {t}.") are left to the cue rules: as
        # embeddings they are mostly their topic, and they pulled every bare noun phrase to practice.
        "{T} should be improved.", "We need more {t}.", "We recommend investing in {t}.",
        "{T} needs to change.", "We started to work on {t}.", "We introduced {t}.", "There should be {t}.",
        "{T} ought to be part of every programme.", "It would be better to plan {t} from the start.",
        "We changed how we handle {t}.", "Management decided to invest in {t}.",
        "After the review, {t} was redesigned.", "Make {t} a priority.", "The team reorganised {t}.",
    ),
    "context": (
        "{T} is provided by the council.", "The report describes {t}.", "{T} is organised by a separate team.",
        "In 2019, {t} was reorganised into three regions.", "{T} covers about 200 people.",
        "The survey asked about {t}.", "{T} is part of the programme.", "Most of the staff work part time.",
        "{T} is funded by the local authority.", "The programme started in 2017.", "Our office handles {t}.",
        "{T} was discussed in the interviews.", "Participants were asked how often they used {t}.",
        "{T} has been in place for five years.", "Half of the respondents mentioned {t}.",
    ),
}


def template_statements() -> dict[str, tuple[str, ...]]:
    """Every fifth (template, topic) pair per category; each topic still meets three forms of each.

    All pairs would triple the embedding time without changing the dev-set figures.
    """
    out: dict[str, tuple[str, ...]] = {}
    for category, templates in TEMPLATES.items():
        made = []
        for i, topic in enumerate(TOPICS):
            for j, template in enumerate(templates):
                if (i + j) % 5 == 0:
                    made.append(template.format(t=topic, T=topic[0].upper() + topic[1:]))
        out[category] = tuple(dict.fromkeys(made))
    return out


def all_prototypes() -> dict[str, tuple[str, ...]]:
    """The hand-written prototypes followed by the template statements, per category."""
    generated = template_statements()
    return {c: PROTOTYPES[c] + generated[c] for c in PROTOTYPES}


# How a survey question frames its answers (issue 13, item 5): matched, like the cues above, over the
# question's lemmas, before the general cues (which also apply to a question). "What got in the way?"
# asks for barriers, "What went well?" for enablers, "What would you change?" for practices; the
# question's leaning is a strong prior for each answer's category (`categorise.question_prior`).
QUESTION_CUES: dict[str, tuple[tuple[str, float], ...]] = {
    "barrier": (("get in the way", 1.0), ("go wrong", 1.0), ("hold you back", 1.0), ("stop you", 1.0),
                ("prevent", 1.0), ("harder", 1.0), ("hard", 1.0), ("difficult", 1.0), ("bad", 1.0),
                ("worst", 1.0), ("dislike", 1.0), ("problem", 1.0), ("barrier", 1.0), ("challenge", 1.0)),
    "enabler": (("go well", 1.0), ("work well", 1.0), ("help", 1.0), ("helpful", 1.0), ("most useful", 1.0),
                ("best", 1.0), ("like most", 1.0), ("like about", 1.0), ("easier", 1.0), ("good", 1.0),
                ("strength", 1.0)),
    "practice": (("improve", 1.0), ("change", 1.0), ("do differently", 1.0), ("recommend", 1.0),
                 ("suggest", 1.0), ("should", 1.0), ("could be do", 1.0), ("would make", 1.0),
                 ("what would you", 1.0), ("advice", 1.0), ("better", 1.0)),
}

# A nil answer: a survey reply that says there is nothing to report ("Nothing.", "No, not really",
# "Can't think of anything", "No complaints, all good"). Asked what could be better or why, it says
# nothing is wrong: an enabler; asked what was good, a barrier (`categorise.match_cues`, and
# `categorise_passages` with the question's leaning). Without this rule "nothing" read as a barrier
# cue and the prototypes compared an empty reply with complaints (docs/benchmarks.md, "Learning from
# the reviewer": about one NHS comment in ten is a nil answer, and the machine had half of them on
# the wrong side). Matched case-insensitively at the start of a passage; a regular expression because
# the reply's shape (its start, what follows it) matters, not its lemmas. A bare "No" is left out: it
# answers a yes/no question, whose meaning only the question holds.
NIL_ANSWER = (
    r"(?:(?:no|nope|nah)\b[\s,.!;:-]+)?"
    # A third pass (docs/benchmarks.md, "Contrast and nil answers, third pass"): the reply may open with
    # "There is", "I have" ("There is nothing that could have been done better", "I have no complaints").
    r"(?:(?:there(?:\s+(?:is|was)|['’]s)|i(?:\s+(?:have|had)|['’]ve)(?:\s+got)?)\s+)?"
    # Fourth pass (docs/benchmarks.md, "Nil answers and plain-praise labels"): a speaker's qualifier may open
    # it ("Honestly nothing", "In my opinion, nothing", "Overall nothing", "Absolutely nothing").
    r"(?:(?:honestly|overall|absolutely|absolutly|genuinely|personally|to\s+be\s+honest|for\s+me"
    r"|(?:in|from)\s+my\s+(?:opinion|view|experience|situation|case|point\s+of\s+view))[\s,:]+(?=not|no))?"
    # Third pass: "Nothing could of been done any better", "Nothing (that) they could have done better",
    # "Nothing more could have been done (for me)", "Nothing that was done could have been better".
    r"(?:nothing(?:\s+(?:(?:(?:more|else|better)\s+)?(?:that\s+)?(?:(?:you|they|we|i|anyone|staff)\s+)?(?:could|can)\s+(?:have\s+|of\s+)?"
    r"(?:be(?:en)?\s+(?:done\s+)?|do(?:ne)?\s+)(?:any\s+)?(?:better|more|improved)"
    r"|(?:more|else|better)\s+(?:that\s+)?(?:could|can)\s+(?:have\s+|of\s+)?be(?:en)?\s+done(?:\s+for\s+me)?"
    r"|that\s+was\s+done\s+could\s+(?:have|of)\s+been\s+(?:any\s+)?better|"
    r"at\s+all|really(?:\s+(?:comes?|springs?)\s+to\s+mind)?|much|else|more|better|different|at\s+(?:present|the\s+moment|this\s+time)|right\s+now"
    r"|for\s+me|in\s+my\s+opinion|to\s+(?:add|improve|change|say|report|suggest)(?:\s+on)?"
    r"|(?:that\s+)?(?:i\s+)?(?:can|could)\s+think\s+of|(?:that\s+)?comes?\s+to\s+mind|springs?\s+to\s+mind"
    r"|(?:that\s+)?(?:could|can|needs?\s+to|to)\s+(?:have\s+)?be(?:en)?\s+(?:done\s+)?(?:better|improved|changed)(?:\s+on)?"
    # Later additions, read from the replies the rule above missed (docs/benchmarks.md, "Nil answers,
    # second pass"): "Nothing whatsoever", "Nothing specific", "Nothing that I know of", "Nothing to mention".
    r"|whatsoever|specific|in\s+particular|extra|additional|springs?\s+to\s+mind|(?:really\s+)?comes?\s+to\s+mind"
    r"|(?:that\s+)?i\s+(?:know|am\s+aware|['’]?m\s+aware)\s+of|to\s+(?:mention|comment\s+on|complain\s+about)"
    r"|(?:that\s+)?i\s+can\s+think\s+of+|i\s+would\s+change|(?:at|for)\s+the\s+(?:minute|moment)"
    # Fourth pass: "Nothing that springs to mind", "Nothing to my knowledge", "Nothing in my experience",
    # "Nothing obvious", "Nothing that I can suggest", "Nothing further to add".
    r"|that\s+(?:really\s+)?(?:comes?|springs?)\s+to\s+mind|to\s+my\s+knowledge|in\s+my\s+(?:experience|view)|obvious"
    r"|(?:that\s+)?(?:i\s+)?(?:can|could)\s+(?:suggest|add|say)|(?:further|more|else)\s+to\s+(?:add|say)))?"
    r"|none(?:\s+(?:at\s+all|really|whatsoever|that\s+i\s+can\s+think\s+of))?"
    r"|not\s+really|not\s+a\s+(?:single\s+)?thing|not\s+that\s+i\s+can\s+think\s+of|n/a|nil"
    r"|not\s+that\s+i\s+(?:know|am\s+aware|['’]?m\s+aware)\s+of|not\s+as\s+(?:far\s+as\s+)?i\s+(?:can\s+see|know)"
    r"|(?:definitely|absolutely|certainly)\s+not|not\s+at\s+all|not\s+much(?:\s+really)?|not\s+a\s*lot"
    r"|no[,.!]*\s+i\s+(?:don['’]?t|do\s+not)\s+think\s+so|no[,.!]*\s+i\s+(?:can['’]?t|cannot)|no[,.!]*\s+thank\s+you"
    # Fourth pass, the forms the NHS replies use that the rules above missed: a negated "think so" ("I don't
    # think so"), nothing to add or improve said with "anything" ("I can't think of anything that would
    # improve things", "I don't have anything to add"), fault not found ("Can't fault", "I would be hard
    # pressed to find fault"), and "could not have done (any) better" as the whole reply.
    r"|(?:i\s+)?(?:don['’]?t|do\s+not)\s+think\s+so(?:\s+at\s+all)?(?:[\s,.!]+no\b)?"
    r"|(?:i\s+)?(?:don['’]?t|do\s+not)\s+think\s+(?:you|they|we|anyone|staff)\s+could\s+(?:have\s+|of\s+)?(?:done|do)"
    r"\s+(?:any(?:thing)?\s+)?(?:more|better)"
    r"|(?:i\s+)?(?:can['’]?t|cannot|can\s+not|could\s+not|couldn['’]?t|don['’]?t|do\s+not)\s+(?:think\s+of|find|see|have)"
    r"\s+anything(?:\s+else)?\s+(?:to\s+(?:add|improve|change|say|suggest)"
    r"|(?:that\s+)?(?:would|could|can|needs?\s+to)\s+(?:improve|be\s+(?:improved|changed|better|done\s+better)))"
    r"|(?:i\s+)?(?:would\s+be\s+)?hard\s+pressed\s+to\s+find\s+(?:any\s+|a\s+)?fault"
    r"|(?:i\s+)?(?:can['’]?t|cannot|can\s+not|could\s+not|couldn['’]?t)\s+(?:fault|complain)(?:\s+(?:anything|it|them))?"
    r"|(?:(?:you|they|we|staff)\s+)?(?:could\s+not|couldn['’]?t|can['’]?t|cannot)\s+(?:have\s+|of\s+)?(?:done|do)"
    r"\s+(?:any(?:thing)?\s+)?(?:better|more)"
    r"|(?:you|they)\s+could\s+(?:have\s+|of\s+)?done\s+nothing\s+(?:better|more)"
    r"|no(?:pe)?\s+(?:obvious|real|major|particular|further|other|specific|significant)\s+(?:complaints?|comments?|issues?"
    r"|problems?|concerns?|suggestions?|improvements?|changes?)"
    r"|(?:i\s+)?(?:can['’]?t|cannot|can\s+not|could\s+not|couldn['’]?t)\s+think\s+of\s+(?:anything|a\s+thing|much)"
    r"(?:\s+(?:else|really|at\s+(?:the\s+)?(?:minute|moment)|right\s+now|to\s+be\s+honest))?"
    r"|no(?:pe)?\s+(?:complaints?|criticisms?|concerns?|problems?|issues?|suggestions?|comments?|grumbles?|faults?"
    r"|(?:improvements?|changes?)(?:\s+(?:needed|necessary|required))?)"
    r"(?:\s+(?:at\s+all|really|whatsoever|from\s+me))?)"
)
# After the nil phrase the reply must end, pause (punctuation) or start a new clause with one of
# these words ("Nothing I was well looked after", "No everything was perfect"); "No funding was
# available" and "Nothing was done" are statements, not nil answers.
NIL_FOLLOWERS = frozenset("""
    i it everything all we they you everyone everybody thanks thank just as so very always really
    its it's i'm im the your my our this these staff x keep
""".split())
# A bare "No" answers a yes/no question; followed by a pause or by one of these words and then by
# praise ("No, all good", "No everything was perfect") it is a nil answer ("No staff were helpful" is not).
NO_FOLLOWERS = frozenset("everything all i it its it's i'm im been thank thanks you we everyone everybody".split())
# Other words may open the praise that follows a nil reply ("Nothing great experience", "Nothing
# excellent care"): then the reply is a nil answer when what follows carries an enabler cue that does
# not start right after the nil phrase ("Nothing helped" is a statement), or is at most two words with
# no cue ("Nothing specific x"); never when the next word continues "nothing" as a subject or object
# ("Nothing works", "Nothing on the ward"): these words.
NIL_STATEMENT_WORDS = frozenset("""
    was is are were be been being has have had do does did done get gets got went goes go come comes came
    happen happened happens work works worked change changed changes help helped helps improve improved
    matter matters seem seems seemed make made makes can could will would should may might must
    to on in of about for from with at by against into than that which
""".split())
# ... and nothing later in the passage may turn to a complaint ("Nothing, apart from the parking").
NIL_CONTRAST = (r"\b(?:but|however|although|though|apart\s+from|except|other\s+than|other\s+then|aside\s+from"
                r"|only\s+thing|besides|saying\s+that|having\s+said"
                r"|wish|hope|hopefully|would\s+(?:like|love|be|have)|could\s+(?:have|be|do)|should|needs?)\b")
# A strong cue: log1p(8) = 2.2 on the logit, a little more than a question's prior (QUESTION_WEIGHT 2.0).
# The prototypes still count, so a reply the model reads as a shortfall ("Cannot think of anything")
# can stay close; 4 left more NHS nil answers on the wrong side, 12 gained little more (measured once).
NIL_WEIGHT = 8.0
