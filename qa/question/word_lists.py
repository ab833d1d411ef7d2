"""The word lists that type a mention: stop words, titles and roles, words of one gender,
the head words of organisations and places, countries and cities, speech verbs and irregular
verbs. Month and weekday names come from ``index.text``.

Lower case throughout; ``qa.question.name_kinds``, ``qa.question.names`` and
``qa.question.phrases`` read them.
"""

from __future__ import annotations

from index.text import MONTH_NAMES, WEEKDAY_NAMES


def word_set(text: str, sep: str | None = None) -> frozenset[str]:
    """The words of a text, split at white space or at ``sep``."""
    return frozenset(w.strip() for w in text.split(sep))


STOP_WORDS = word_set(
    """
    a an the and or but if then so of in on at to for from by with without about into onto
    over under after before during since until between among through across against as than
    that this these those there here it its they them their theirs he him his she her hers we
    our you your i me my who whom whose what which when where why how is are was were be been
    being am do does did done doing has have had having will would shall should can could may
    might must not no nor also too very just only even still yet ever never else more most
    less least much many some any all each every both either neither other another such same
    own one ones up down out off again once
    """
)
# Capitalised only because they open a sentence: "However, ...", "Earlier, Wang ...".
OPENERS = STOP_WORDS | word_set(
    """
    however earlier later meanwhile today yesterday tomorrow although though while despite
    according instead originally currently unlike like because now thus therefore furthermore
    moreover finally first second next last recently eventually initially previously prior
    following within around near several few culturally yes ok okay please tell name list give
    """
)
# "May" and "March" as names are rare in questions.
TIME_WORDS = frozenset(w.lower() for w in (*WEEKDAY_NAMES, *MONTH_NAMES))

TITLES = word_set(
    """
    president secretary minister governor queen king prince princess emperor empress sir dame
    lord lady general gen admiral captain capt colonel col lieutenant lt sergeant sgt mayor
    senator sen rep chancellor chairman chairwoman chief director professor prof dr mr mrs ms
    miss pope bishop rev judge justice ambassador commissioner speaker premier tsar czar
    sultan shah khan
    """
)
FEMALE_WORDS = word_set(
    """
    she her hers herself woman women wife mother daughter sister queen princess actress girl
    lady mrs ms miss aunt niece grandmother empress duchess countess dame businesswoman
    spokeswoman chairwoman
    """
)
MALE_WORDS = word_set(
    """
    he him his himself man men husband father son brother king prince actor boy lord mr sir
    uncle nephew grandfather emperor duke businessman spokesman chairman
    """
)
ROLE_NOUNS = (
    FEMALE_WORDS
    | MALE_WORDS
    | word_set(
        """
    spokesperson official diplomat president secretary minister leader chief general admiral
    captain commander soldier officer explorer author writer novelist poet director producer
    singer songwriter guitarist drummer musician model photographer painter artist sculptor
    composer player footballer goalkeeper coach manager governor mayor senator representative
    ambassador chancellor adviser advisor aide astronaut scientist physicist chemist
    mathematician engineer inventor economist historian philosopher journalist reporter editor
    founder merchant trader priest bishop pope monk shaman child friend partner rival
    successor predecessor teacher student professor doctor physician lawyer judge entrepreneur
    industrialist politician statesman dictator ruler monarch heir hostage prisoner member
    person people analyst analysts cosmonaut crew staff miner worker farmer settler colonist
    citizen resident voter troop troops student students fan fans team descendant ancestor
    khan
    """
    )
)
ORG_HEADS = word_set(
    """
    department ministry office agency council committee commission university college school
    institute academy foundation company corporation corp inc ltd group bank church party
    union league association club team army navy force forces police court parliament congress
    senate government administration conference summit program programme times post news
    network channel press museum library hospital society organization organisation service
    services nations media studios records entertainment
    """
)
PLACE_HEADS = word_set(
    """
    river lake sea ocean bay island islands mountain mountains mount hill valley desert city
    county state states province region street avenue road square park bridge airport station
    coast beach harbour harbor port canal gulf strait peninsula village town district
    territory kingdom republic empire castle palace stadium arena hall tower center centre
    yard campus plain plains forest falls
    """
)
PLACES = word_set(
    """afghanistan|albania|algeria|andorra|angola|argentina|armenia|australia|austria|azerbaijan|
    bahamas|bahrain|bangladesh|barbados|belarus|belgium|belize|benin|bhutan|bolivia|bosnia|
    botswana|brazil|brunei|bulgaria|burkina faso|burma|burundi|cambodia|cameroon|canada|chad|
    chile|china|colombia|congo|costa rica|croatia|cuba|cyprus|czechia|czechoslovakia|denmark|
    djibouti|dominica|ecuador|egypt|el salvador|eritrea|estonia|eswatini|ethiopia|fiji|finland|
    france|gabon|gambia|georgia|germany|ghana|greece|grenada|guatemala|guinea|guyana|haiti|
    honduras|hungary|iceland|india|indonesia|iran|iraq|ireland|israel|italy|jamaica|japan|jordan|
    kazakhstan|kenya|kiribati|korea|north korea|south korea|kosovo|kuwait|kyrgyzstan|laos|latvia|
    lebanon|lesotho|liberia|libya|liechtenstein|lithuania|luxembourg|madagascar|malawi|malaysia|
    maldives|mali|malta|mauritania|mauritius|mexico|micronesia|moldova|monaco|mongolia|
    montenegro|morocco|mozambique|myanmar|namibia|nauru|nepal|netherlands|new zealand|nicaragua|
    niger|nigeria|norway|oman|pakistan|palau|palestine|panama|paraguay|persia|peru|philippines|
    poland|portugal|qatar|romania|russia|rwanda|samoa|san marino|saudi arabia|senegal|serbia|
    seychelles|sierra leone|singapore|slovakia|slovenia|somalia|south africa|south sudan|spain|
    sri lanka|sudan|suriname|sweden|switzerland|syria|taiwan|tajikistan|tanzania|thailand|tibet|
    togo|tonga|tunisia|turkey|turkmenistan|tuvalu|uganda|ukraine|united arab emirates|
    united kingdom|united states|united states of america|america|uruguay|uzbekistan|vanuatu|
    vatican|venezuela|vietnam|yemen|zambia|zimbabwe|us|u.s|usa|uk|eu|ussr|prc|soviet union|
    england|scotland|wales|britain|great britain|europe|asia|africa|antarctica|oceania|
    north america|south america|latin america|middle east|crimea|hong kong|macau|siberia|
    beijing|moscow|washington|london|paris|berlin|rome|madrid|tokyo|seoul|delhi|new delhi|
    kyiv|kiev|brussels|vienna|munich|geneva|new york|los angeles|chicago|shanghai|taipei|
    jerusalem|cairo|istanbul|ankara|tehran|baghdad|kabul|islamabad|riyadh|dubai|sydney|
    melbourne|toronto|ottawa|mexico city|rio de janeiro|buenos aires|lisbon|athens|warsaw|
    prague|budapest|stockholm|oslo|copenhagen|helsinki|amsterdam|dublin|edinburgh|boston|
    hollywood|alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|
    hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|
    michigan|minnesota|mississippi|missouri|montana|nebraska|nevada|new hampshire|new jersey|
    new mexico|north carolina|north dakota|ohio|oklahoma|oregon|pennsylvania|rhode island|
    south carolina|south dakota|tennessee|texas|utah|vermont|virginia|west virginia|wisconsin|
    wyoming""",
    "|",
)
PLACE_PREPS = word_set(
    """
    in at from near into across alongside outside inside around throughout within via off to
    """
)  # "to" only after a motion word (MOTION_WORDS)
MOTION_WORDS = word_set(
    """
    go goes going went gone come came travel travels travelled traveled travelling trip visit
    visits visited move moves moved moving fly flew flown sail sailed return returned
    returning head headed heading sent send drive drove bring brought arrive arrived move
    route way
    """
)
SPEECH_VERBS = word_set(
    """
    say says said tell tells told call calls called criticize criticized criticise criticised
    confirm confirmed declare declared express expressed warn warned hope hoped want wanted
    think thought believe believed write wrote written sing sang sung marry married die died
    ask asked reply replied argue argued claim claimed deny denied accuse accused stress
    stressed reiterate reiterated emphasize emphasized insist insisted announce announced
    maintain maintains maintained explain explained admit admitted meet met speak spoke spoken
    discuss discussed
    """
)
# How a question asking what to do opens ("How do I renew ...?", "Can I ...?"): its answer is a
# step or a rule, more often a passage than a phrase.
HOW_TO_OPENINGS = ("how do", "how can", "how to", "how should", "what do i", "what should", "can i")
# How a request that is no question opens ("I need help with ...", "Tell me about ..."), after
# any of the fillers a spoken turn starts with ("Yeah, um, I'm looking for ..."): it asks about a
# topic, and a sentence answers it, not a phrase.
REQUEST_OPENERS = word_set("i we my our tell explain describe help show please")
FILLERS = word_set("yeah yes um uh ok okay hi hello hey well so oh")
# What a choice in time asks for (``qa.answer.compare``): the earlier of two, or the later; and
# the words that ask for a date other than the first a text gives (a birth's, a release's).
EARLIER_WORDS = word_set("first earlier earliest older oldest before sooner")
LATER_WORDS = word_set("later latest younger youngest recently newer newest last")
UNDATED_WORDS = word_set("died die dies death dead ended end ends closed")
# What a choice in count asks for ("Which genus has more species, A or B?"): the larger count of
# the noun, or the smaller.
MORE_WORDS = word_set("more most greater")
FEWER_WORDS = word_set("fewer fewest less least")
# The verbs a yes/no question opens with ("Did ...?", "Is ...?").
AUXILIARIES = word_set(
    "did does do is are was were has have had will would can could should may might must"
)
IRREGULAR_VERBS = {
    "wrote": "write", "written": "write", "sang": "sing", "sung": "sing", "met": "meet",
    "led": "lead", "flew": "fly", "flown": "fly", "built": "build", "found": "find",
    "made": "make", "took": "take", "taken": "take", "gave": "give", "given": "give",
    "began": "begin", "begun": "begin", "ran": "run", "won": "win", "fought": "fight",
    "taught": "teach", "held": "hold", "said": "say", "told": "tell", "saw": "see",
    "seen": "see", "went": "go", "gone": "go", "came": "come", "chose": "choose",
    "chosen": "choose", "drew": "draw", "drawn": "draw", "spoke": "speak", "spoken": "speak",
    "shot": "shoot", "brought": "bring", "bought": "buy", "sold": "sell", "sent": "send",
    "left": "leave", "lost": "lose", "paid": "pay", "became": "become", "thought": "think",
    "knew": "know", "known": "know", "grew": "grow", "grown": "grow", "threw": "throw",
    "drove": "drive", "driven": "drive", "rode": "ride", "rose": "rise", "fell": "fall",
    "hid": "hide", "hidden": "hide", "bore": "bear", "born": "bear", "struck": "strike",
    "stood": "stand", "sat": "sit", "kept": "keep", "meant": "mean", "felt": "feel",
    "died": "die", "married": "marry", "flies": "fly", "was": "be", "were": "be", "is": "be",
}  # fmt: skip
VERB_FORMS = frozenset(IRREGULAR_VERBS) | word_set(
    """
    is are was were be been being am do does did has have had will would can could should may
    might must shall tell say see make go get give take find know think come meet bring begin
    keep hold write hear let seem become try ask feel provide include continue learn follow
    create speak allow add spend grow open win remember consider appear buy serve die send
    expect reach kill remain suggest raise require decide pull discuss describe explain hide
    escape invent marry attend represent improve motivate criticize criticise confirm declare
    express warn deny accuse stress reiterate emphasize insist announce admit
    """
)
ATTRIBUTE_NOUNS = word_set(
    """
    name capacity population size area length height width depth age cost price value capital
    title meaning purpose role rank number amount date year type kind part budget weight speed
    distance
    """
)
DEMONYMS = word_set(
    "german roman tibetan afghan thai dutch french greek swiss czech iraqi israeli pakistani "
    "saudi welsh irish scottish british english spanish polish turkish finnish swedish"
)
# A nation's people as its sentences name them: "an American band" is from the United States.
NATIONS = {
    place.strip(): people.strip()
    for pair in word_set(
        """
    american: united states|united states of america|america|us|u.s|usa;
    british: united kingdom|britain|great britain|uk; english: england; scottish: scotland;
    welsh: wales; irish: ireland; french: france; german: germany; italian: italy;
    spanish: spain; portuguese: portugal; dutch: netherlands; belgian: belgium;
    swiss: switzerland; austrian: austria; swedish: sweden; norwegian: norway; danish: denmark;
    finnish: finland; icelandic: iceland; polish: poland; czech: czechia; hungarian: hungary;
    greek: greece; turkish: turkey; russian: russia; ukrainian: ukraine; chinese: china;
    japanese: japan; korean: korea; indian: india; pakistani: pakistan; canadian: canada;
    mexican: mexico; brazilian: brazil; argentine: argentina; australian: australia;
    asian: asia; european: europe; african: africa
    """,
        ";",
    )
    for people, places in [pair.split(":")]
    for place in places.split("|")
}
# Verbs a question frames a property with that its documents seldom write: "described as a
# genus", "located in England" (the sentence says "is a genus", "a cathedral in England").
FRAMING_VERBS = word_set("described considered located known classified regarded called based")
ABBREVIATIONS = word_set(
    """
    st dr mr mrs ms jr sr mt ft gen col lt sgt rev prof capt sen rep
    """
)
# The small words inside a name: "Secretary of State", "Ludwig van Beethoven".
NAME_PARTICLES = frozenset({"of", "de", "von", "van", "der", "del", "da", "di", "la", "le", "bin"})
