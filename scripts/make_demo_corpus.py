# ruff: noqa: E501  (the transcript text below is data)
"""Builds the two generated files of the demo corpus: a .docx transcript and a .vtt caption file.

Both are ILLUSTRATIVE transcripts invented for demonstration (not real interviews, people or places).
The outputs are committed; run this again only after changing the text below:

    python scripts/make_demo_corpus.py

The .docx is written with fixed timestamps so a rebuild gives the same bytes (and the same sha256).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import docx
from docx.shared import Pt

INTERVIEWS = Path(__file__).resolve().parents[1] / "corpora" / "demo" / "interviews"
FIXED_TIME = dt.datetime(2024, 1, 1, 9, 0, 0)
NOTICE = "ILLUSTRATIVE TRANSCRIPT - invented for demonstration; not a real interview, and not real people or places."

# --- Eastvale community organisation (.docx) -----------------------------------------------------------
DOCX_NAME = "eastvale-community-organisation.docx"
DOCX_DETAILS = [
    ("Area", "Eastvale (an invented area)"),
    ("Organisation", "Eastvale Women's Centre (an invented organisation)"),
    ("Interviewee", "Halima Yusuf (an invented name), centre manager"),
]
DOCX_TURNS = [
    ("Interviewer", "Thank you for agreeing to talk to me. Could you tell me about the centre and the women you work with?"),
    ("Halima Yusuf", "We've been going for about fifteen years. We started as a sewing group in a church hall and now we have our own building on the high street. We see around four hundred women a year, mostly Pakistani, Bangladeshi and Somali, and more recently women from Afghanistan and Eritrea. We run English classes, a crèche, a parents' group, advice sessions on benefits and housing, and for the last three years a jobs club with the jobcentre."),
    ("Interviewer", "Why do women come to the centre rather than, say, the jobcentre or the college?"),
    ("Halima Yusuf", "Because they trust us. Many of our staff and volunteers are from the same communities, speak the same languages and have had the same experiences. Women come here first for something small, a form they can't understand, a letter from the school, and they come back because they were treated with respect. The jobcentre, for many of them, is a place of rules and sanctions. Some have heard stories from relatives who lost their benefits, and they're frightened of it. The college feels like it's not for them."),
    ("Interviewer", "How did the jobs club with the jobcentre start?"),
    ("Halima Yusuf", "The jobcentre manager came to see us. She said, we know there are women in this area who want to work and we're not reaching them, can you help? We said yes, but on our terms. The work coach would come to us, to our building, every week at the same time. No sanctions would be discussed in the session unless the woman asked. The woman could bring a friend or her sister. And the work coach would be someone who speaks at least one of the community languages. The jobcentre agreed to all of that, and that's why it works."),
    ("Interviewer", "What happens in a typical session?"),
    ("Halima Yusuf", "It's informal. Tea, biscuits, the crèche next door. The work coach sits with two or three women at a time. Some just want information: what jobs are there, how does Universal Credit work if I start working part-time, will I lose my housing benefit. Others want help with a CV or an application. Our volunteers help with the computer side, because a lot of women have never used a computer. They do everything on their phone, if they have a phone of their own. Some share one phone with their husband, which makes it difficult to keep up with the online journal."),
    ("Interviewer", "What are the main barriers to work for the women you see?"),
    ("Halima Yusuf", "Childcare is number one, always. Many women have three or four children and nobody else to look after them, or the family expects them to look after the children themselves. Formal childcare is expensive and they don't trust it, they've never used it. Number two is English. Number three is confidence. Many of our women have been at home for years, and they think they have nothing to offer an employer. That's not true, they've run households on very little money, they've raised children, some have run small businesses from home, but they don't see it as experience."),
    ("Halima Yusuf", "And then there's what happens when they do apply. Women in hijab tell us they're treated differently at interviews, or they're told the uniform is a problem. Some are asked whether their husband agrees to them working. One woman was told at a shop interview that customers might be uncomfortable. That kind of experience stays with you. After one or two rejections like that, many women stop applying."),
    ("Interviewer", "And for the newer arrivals?"),
    ("Halima Yusuf", "For women from Afghanistan and Eritrea, many have had no schooling at all, so they need basic literacy before anything else. Others, from Syria and Iran, have degrees and professional experience, and their qualifications aren't recognised. We have a dentist from Iran who is volunteering in our crèche because she can't practise here. She's trying to get through the exams, but it's expensive and it takes years."),
    ("Interviewer", "What has helped women into work?"),
    ("Halima Yusuf", "Seeing other women do it. That's the most powerful thing. We have a peer mentoring scheme. Women who've got jobs, say as teaching assistants or care workers or in the hospital kitchens, come back and talk about it. They mentor a new woman for three months. They go with her to the interview, or they help her work out how to manage the school run and a shift. When a woman sees someone who looks like her, who speaks like her, who wears what she wears, doing the job, she believes she can do it too."),
    ("Halima Yusuf", "The ESOL classes that are connected to work help as well. We run one with Eastvale Community Learning where the English is about jobs: interviews, talking to customers, understanding a payslip. And there's a crèche, which is why women can come. Without the crèche, no classes."),
    ("Halima Yusuf", "And flexible appointments. If the jobcentre wants to see a woman at nine in the morning, she has to choose between taking her children to school and the appointment. When the work coach started seeing women here between ten and two, attendance went up straight away."),
    ("Interviewer", "Have you seen employers change how they recruit?"),
    ("Halima Yusuf", "A few. There's a care company that offers guaranteed interviews to women from our jobs club, and they've been flexible about shift times. The logistics company on the business park now has school-hours shifts, and a shuttle bus from the town centre. That has made a difference, because before that the jobs were out of reach if you didn't drive. Transport is a big barrier here. The buses are expensive and they don't go where the jobs are, at the times the shifts start."),
    ("Interviewer", "What are the challenges of working with the jobcentre?"),
    ("Halima Yusuf", "The biggest one is that it depends on individuals. When our first work coach moved to another office, it nearly collapsed. The new person didn't speak the languages and didn't understand why we did things the way we did. It took months to rebuild. Now we've got a written agreement that sets out how the partnership works, so it doesn't depend on one person."),
    ("Halima Yusuf", "The second is money. We provide the building, the crèche, the volunteers, the trust, and we get nothing for it. The jobcentre counts the job outcomes. We've had three different pots of funding for the jobs club in three years, all short-term, and each time we had to start again. Community organisations are always asked to reach the people nobody else can reach, but we're never funded properly to do it."),
    ("Interviewer", "If another area wanted to copy this, what would you tell them?"),
    ("Halima Yusuf", "Go to where the women already are. Don't expect them to come to you. Work with the organisations they trust, and treat us as partners, not as a room to borrow. Send work coaches who speak the languages and who stay. Put a crèche next to everything. Connect the English to work from the beginning. Use women who've done it as mentors. And keep the funding going for long enough to see results, because trust takes years to build and a week to lose."),
    ("Interviewer", "Thank you. Is there anything else you'd like to add?"),
    ("Halima Yusuf", "Just that the women are not the problem. They want to work, they want to contribute, they want their daughters to see them working. It's the system around them that needs to change."),
]

# --- Riverside youth hub work coach (.vtt, voice tags as Microsoft Teams writes them) ------------------
VTT_NAME = "riverside-youth-hub-work-coach.vtt"
VTT_TURNS = [
    ("Sam Okafor", "Thanks for joining the call. Could you start by telling me what you do at the youth hub?"),
    ("Daniel Mensah", "Sure. I'm a work coach based at the Riverside youth hub, which is in the community centre on Station Road rather than in the jobcentre. We work with young people aged eighteen to twenty-four, most of them on Universal Credit. Around half of my caseload is from ethnic minority backgrounds, Black African, Black Caribbean, Pakistani and mixed heritage mainly."),
    ("Sam Okafor", "Why is the hub in the community centre?"),
    ("Daniel Mensah", "Because young people wouldn't come to the jobcentre. Honestly, a lot of them see it as a place that sanctions you. Some had bad experiences with their parents being sanctioned. In the community centre it's more relaxed. There's a cafe, there's a gym upstairs, there are youth workers around. The young people come in for something else and end up talking to us. Being co-located with the youth service and the careers adviser means we can do a warm handover on the spot, introducing the young person in person instead of sending a referral form."),
    ("Sam Okafor", "What are the main barriers you see for young people from ethnic minority backgrounds?"),
    ("Daniel Mensah", "The one that comes up most is discrimination, or the feeling of it. Young Black men in particular tell me they apply and apply and never hear back. Some of them have good qualifications. One lad did an experiment, he applied for the same jobs with his own name and with an English-sounding name, and he got more responses with the English name. After a while, they stop trying. They think, what's the point, the system isn't for people like me."),
    ("Daniel Mensah", "Then there's confidence and networks. A lot of young people get their first job through someone they know, a relative or a friend of the family. If your parents work in low-paid jobs or aren't working, you don't have those connections. And some young people have caring responsibilities, looking after younger siblings or a parent who's unwell, which nobody at school or at the jobcentre knew about."),
    ("Sam Okafor", "Is digital access a barrier for young people? People often assume they're all online."),
    ("Daniel Mensah", "That's a myth, or half a myth. They're good with their phones, but many don't have a laptop, and you can't really do an online application or a video interview on a cracked phone with no data. Some rely on the free wifi at the community centre or the library. So we have laptops they can use here, and we help them with things like setting up a professional email address, which sounds small but matters. An email address from when you were thirteen doesn't look great on an application."),
    ("Sam Okafor", "What has worked well?"),
    ("Daniel Mensah", "The peer ambassadors. We recruited young people who had been through the hub and got jobs or apprenticeships, and we pay them a small amount to come back and talk to the new ones. They run a session every week. They say things like, I was where you are, this is what I did. That's much more convincing than me. Several of the ambassadors are young Black men who've got apprenticeships with the council or the hospital, and that shows the others it's possible."),
    ("Daniel Mensah", "Mentoring too. We've got a partnership with a local business network, where professionals from different backgrounds mentor a young person for six months. They meet every couple of weeks, talk about careers, do mock interviews. Some of the mentors have offered work experience in their own companies."),
    ("Daniel Mensah", "And employer engagement. The logistics company on the business park runs a sector-based work academy with us, with a guaranteed interview at the end. For young people who've been rejected again and again online, a guaranteed interview is huge, it means a real person will meet them. We've also brought employers into the hub for speed interviews, which breaks down the idea that employers are some distant thing."),
    ("Sam Okafor", "Do you do anything with schools?"),
    ("Daniel Mensah", "Yes, we work with the Support for Schools adviser. She goes into secondary schools and targets pupils at risk of becoming NEET. We do joint sessions in the schools about apprenticeships and what the jobcentre can offer, so when those young people leave school, they already know us. It's much easier to engage someone at eighteen if they met you at fifteen. We also do sessions for parents, because parents have a lot of influence and some don't know much about apprenticeships."),
    ("Sam Okafor", "What about practical things like transport or appointment times?"),
    ("Daniel Mensah", "Transport's a big one. A lot of the entry-level jobs and apprenticeships are on the outskirts, and the bus fare eats up a lot of a first wage or an apprentice wage. We use the Flexible Support Fund to pay travel for the first month, until the first payday, and that has made the difference between someone taking a job or not. On appointments, we're flexible. Young people don't do nine o'clock appointments well. We do afternoons, and we keep in touch by text and WhatsApp, which they actually answer, rather than only through the journal."),
    ("Sam Okafor", "Does the hub monitor outcomes by ethnicity?"),
    ("Daniel Mensah", "We've started. Our manager produces a monthly breakdown of who's on the caseload, who's starting provision and who gets a job, by ethnicity and gender. It showed us that young Pakistani and Bangladeshi women were hardly using the hub at all. So we started a women-only session on a Wednesday, with a female work coach, and we advertised it through the mosque and the girls' group at the community centre. Numbers went up within a couple of months."),
    ("Sam Okafor", "What gets in the way of doing more?"),
    ("Daniel Mensah", "Caseload size and short-term funding. The peer ambassadors are funded by a grant that ends next year. The mentoring depends on volunteers. Everything good we've done has been a bit of a pilot, and you never know if it's going to continue. And when we refer young people to providers outside the hub, we often lose track of them, because the information doesn't come back."),
    ("Sam Okafor", "If another area wanted to set up something similar, what would you tell them?"),
    ("Daniel Mensah", "Get out of the jobcentre building. Go where young people already are. Use young people who've done it as role models. Get employers to commit to guaranteed interviews, not just talks. Be flexible about how you keep in touch. And look at your data by ethnicity, because you'll find groups you're not reaching."),
    ("Sam Okafor", "That's great, thank you Daniel."),
]


def write_docx(path: Path) -> None:
    document = docx.Document()
    document.core_properties.author = "synth demo corpus"
    document.core_properties.title = "Illustrative interview transcript: Eastvale community organisation"
    for prop in ("created", "modified", "last_printed"):
        setattr(document.core_properties, prop, FIXED_TIME)
    document.core_properties.revision = 1
    document.add_paragraph(NOTICE)
    document.add_paragraph("Stakeholder interview with a community organisation in Eastvale.")
    table = document.add_table(rows=0, cols=2)
    for key, value in DOCX_DETAILS:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = key, value
    for speaker, words in DOCX_TURNS:
        paragraph = document.add_paragraph()
        label = paragraph.add_run(f"{speaker}:")
        label.bold = True
        paragraph.add_run(f" {words}")
        paragraph.paragraph_format.space_after = Pt(8)
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(_fixed_zip_times(buffer.getvalue()))


def _fixed_zip_times(data: bytes) -> bytes:
    """Rewrite a zip with every member dated FIXED_TIME, so the same input gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def write_vtt(path: Path) -> None:
    """One cue per short phrase, about 2.5 words a second, each with a `<v Name>` voice tag."""
    lines = ["WEBVTT", "", "NOTE", NOTICE, ""]
    clock = 2.0
    number = 0
    for speaker, words in VTT_TURNS:
        for phrase in _phrases(words):
            number += 1
            duration = max(1.5, len(phrase.split()) / 2.5)
            lines += [str(number), f"{_stamp(clock)} --> {_stamp(clock + duration)}",
                      f"<v {speaker}>{_wrap(phrase)}</v>", ""]
            clock += duration + 0.3
        clock += 1.0
    path.write_text("\n".join(lines), encoding="utf-8", newline="\n")


def _phrases(words: str, limit: int = 16) -> list[str]:
    phrases: list[str] = []
    for sentence in re.split(r"(?<=[.?!])\s+", words):
        tokens = sentence.split()
        while tokens:
            phrases.append(" ".join(tokens[:limit]))
            tokens = tokens[limit:]
    return phrases


def _wrap(phrase: str, width: int = 42) -> str:
    """Break a long caption over two lines at the space nearest its middle, as caption tools do."""
    if len(phrase) <= width:
        return phrase
    middle = len(phrase) // 2
    spaces = [i for i, ch in enumerate(phrase) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - middle))
    return phrase[:cut] + "\n" + phrase[cut + 1:]


def _stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def main() -> None:
    INTERVIEWS.mkdir(parents=True, exist_ok=True)
    write_docx(INTERVIEWS / DOCX_NAME)
    write_vtt(INTERVIEWS / VTT_NAME)
    for name, turns in ((DOCX_NAME, DOCX_TURNS), (VTT_NAME, VTT_TURNS)):
        print(f"wrote {INTERVIEWS / name} ({sum(len(w.split()) for _, w in turns)} words)")


if __name__ == "__main__":
    main()
