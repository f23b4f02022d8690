"""Voice names the vendor documents, per pool (model cards and the voices page, 2026-08).

Standard ``lightning_v3.1``: the model card's top/best lists and the voices page short-list,
plus ``kartik``/``liam``/``avery`` (word-timestamp table), ``sophia`` (Pipecat's default) and
``kanik`` (the SDK helpers' example). Pro ``lightning_v3.1_pro``: the Pro model card's
catalogue (42 English/Hindi voices and 149 voices of 29 more languages). Legacy
``lightning`` (v1): ``emily``. The live catalogue has more Standard voices (217) than the
docs name; ``accept_any_voice`` admits those.

Rows: ``(voice ids, languages, accent, gender)``; languages are full names as in
``get_voices`` tags.
"""

from __future__ import annotations

Row = tuple[str, str, str, str]

STANDARD_ROWS: tuple[Row, ...] = (
    (
        "jordan robert johnny lucas magnus ronald blofeld zorin felix malcolm daniel",
        "english",
        "american",
        "male",
    ),
    (
        "lauren hannah vanessa brooke olivia rachel nicole elizabeth ilsa christine quinn mia "
        "sophia",
        "english",
        "american",
        "female",
    ),
    ("avery", "english", "american", "female"),
    ("liam", "english", "british", "male"),
    ("william", "english", "canadian", "male"),
    ("erica", "english", "canadian", "female"),
    ("chloe", "english", "australian", "female"),
    (
        "sunidhi chinmayi aanya siya anuja avni ishani yuvika advika sana sameera srishti sakshi "
        "maya maithili",
        "hindi,english",
        "indian",
        "female",
    ),
    (
        "wasim rehan parth atharv vivaan devansh aarush neel mihir kartik kanik",
        "hindi,english",
        "indian",
        "male",
    ),
    ("marcos david miguel", "spanish", "spanish", "male"),
    ("daniella camilla alba nerea", "spanish", "spanish", "female"),
    ("jeevan", "tamil", "indian", "male"),
    ("rajeshwari", "tamil", "indian", "female"),
    ("vaisakh", "malayalam", "indian", "male"),
    ("shibi", "malayalam", "indian", "female"),
    ("srihari", "telugu", "indian", "male"),
    ("padmaja", "telugu", "indian", "female"),
    ("nilesh", "marathi", "indian", "male"),
    ("rupali", "marathi", "indian", "female"),
    ("dhruvit", "gujarati", "indian", "male"),
    ("niharika", "gujarati", "indian", "female"),
    ("pranav", "kannada", "indian", "male"),
    ("deepashri", "kannada", "indian", "female"),
)

PRO_ROWS: tuple[Row, ...] = (
    ("rhea zariya kareena mishka inaaya saira meher aarini", "english,hindi", "indian", "female"),
    ("aviraj vyom zoravar reyansh ahan", "english,hindi", "indian", "male"),
    ("sophie ellie cressida ottilie elowen seraphina", "english", "british", "female"),
    ("sam henry benedict cormac rupert finley", "english", "british", "male"),
    (
        "kaitlyn savannah amelia zoe ruby leah jenna kate molly sara fiona",
        "english",
        "american",
        "female",
    ),
    ("blake austin jack leo luke owen", "english", "american", "male"),
    ("mrunal manasi ketaki tejaswini", "marathi", "indian", "female"),
    ("mandar tushar", "marathi", "indian", "male"),
    ("malar nila tamilselvi", "tamil", "indian", "female"),
    ("mathan dinesh prabhu ezhil kavin tamizh barath sakthi murugan", "tamil", "indian", "male"),
    ("parvathy lakshmi", "malayalam", "indian", "female"),
    ("vishnu sreenath unni aravindan", "malayalam", "indian", "male"),
    ("sravani swathi", "telugu", "indian", "female"),
    ("naveen charan sasank bhaskar gopal manohar", "telugu", "indian", "male"),
    ("spoorthi rashmi varsha sahana", "kannada", "indian", "female"),
    ("rakshith kishore yogesh gowtham shankar basava", "kannada", "indian", "male"),
    ("jasleen manmeet", "punjabi", "indian", "female"),
    ("rajdeep tejinder sukhdeep amrit gagandeep", "punjabi", "indian", "male"),
    ("rajib tanmoy subhro arghya indranil", "bengali", "indian", "male"),
    ("sasmita ankita", "odia", "indian", "female"),
    ("subrat debasish sambit pratik rakesh smruti", "odia", "indian", "male"),
    ("krupa riddhi", "gujarati", "indian", "female"),
    ("jignesh mit keval", "gujarati", "indian", "male"),
    ("layla", "arabic", "arabic", "female"),
    ("adam", "arabic", "arabic", "male"),
    ("hazel vivian", "chinese", "chinese", "female"),
    ("dylan silas eli", "chinese", "chinese", "male"),
    ("nora", "indonesian", "indonesian", "female"),
    ("bryce miles cole", "indonesian", "indonesian", "male"),
    ("aria mila daisy", "japanese", "japanese", "female"),
    ("jasper", "japanese", "japanese", "male"),
    ("june", "korean", "korean", "female"),
    ("sasha", "malay", "malay", "female"),
    ("roman", "malay", "malay", "male"),
    ("beau wes", "turkish", "turkish", "male"),
    ("kai", "vietnamese", "vietnamese", "male"),
    ("hanna lea petra", "german", "german", "female"),
    ("max ben markus finn", "german", "german", "male"),
    ("martina ines paula", "spanish", "spanish", "female"),
    ("sebastian mateo gabriel", "spanish", "spanish", "male"),
    ("manon juliette lucie elise amelie", "french", "french", "female"),
    ("louis nicolas maxime raphael", "french", "french", "male"),
    ("silvia concetta arianna", "italian", "italian", "female"),
    ("davide luca leonardo", "italian", "italian", "male"),
    ("juliana leticia catarina", "portuguese", "portuguese", "female"),
    ("gustavo thiago bruno francisco", "portuguese", "portuguese", "male"),
    ("anastasia ekaterina olga irina", "russian", "russian", "female"),
    ("andrei nikolai maksim", "russian", "russian", "male"),
    ("katerina dimitra athina", "greek", "greek", "female"),
    ("dimitris vasilis", "greek", "greek", "male"),
    ("aino helmi venla", "finnish", "finnish", "female"),
    ("mika timo matti", "finnish", "finnish", "male"),
    ("solveig marit", "norwegian", "norwegian", "female"),
    ("kristian espen", "norwegian", "norwegian", "male"),
    ("ewa joanna", "polish", "polish", "female"),
    ("tomasz jakub", "polish", "polish", "male"),
)

LEGACY_ROWS: tuple[Row, ...] = (("emily", "english", "american", "female"),)

#: Lightning v3.2 voices: the v3.2 spec defines ``/lightning-v3.2/get_voices`` and its entry
#: shape but names no voice, so the catalogue is empty.
V32_ROWS: tuple[Row, ...] = ()
