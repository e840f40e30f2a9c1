"""The sentences each intent accepts, in the template syntax of grammar.py.

A template must account for every word of a request; polite openings and endings
("hey", "please", "can you tell me") are the rules below. Typed slots:
{expression} a sum, {quantity} an amount and a unit, {unit}, {duration}, {days} (a day
relative to today), {word} (to spell), {label} (a timer's name), {task} (what to remind).
"""

from __future__ import annotations

RULES = {
    # Around every template.
    "lead": "(hey|hi|hello|ok|okay|so|well|alright|all right|please|excuse me|vistavox"
    "|hey vistavox|ok vistavox|quick question|question)",
    "tail": "(please|thanks|thank you|thanks a lot|for me|for me please|if you can|if you could"
    "|if you would|if you dont mind|real quick|quickly)",
    # Before an imperative ("can you add 5 and 89") or an indirect question ("tell me what
    # time it is").
    "polite": "((can|could|would|will) you [please]|please|i (need|want|would like) you to"
    "|id like you to|would you mind|i need to|i want to|i would like to|id like to|lets|let us)",
    "tell": "([(can|could|would|will) you] [please] (tell|show|give) me|(tell|show|give) me"
    "|(do|would) you know|do you have any idea|any idea|i (want|need|would like) to know"
    "|id like to know|i wonder|i was wondering|let me know|can i ask|i have a question)",
    "what_is": "(what is|whats|what are|what would be|what will be|what was|how much is"
    "|how much are|what does|what do|what is the value of)",
    "now": "(right now|now|currently|at the moment|at present|here|exactly|today|please)",
    # calculate
    "result_of": "[the] (answer|result|solution|value|total|cost|price|total cost|total price"
    "|sum total) (to|of|for)",
    "equals": "(equal|equals|equal to|is equal to|is|make|makes|come to|comes to|add up to"
    "|adds up to|=|be|give|gives|give you)",
    "compute": "(calculate|compute|evaluate|solve|work out|figure out|find|do|get)",
    # convert
    "how_many": "(how many|how much|what amount of|what number of|how much of)",
    "are_in": "(are|is|are there|is there|will there be|would there be|are there going to be"
    "|fit|go|make|make up|equal|equals|are equal to|is equal to|do you get|would i get"
    "|can i get|can fit|would fit)",
    "a": "(a|an|one|the)",
    # identity
    "being": "[a|an] (human|person|real person|human being|real human|live person|computer"
    "|robot|bot|machine|ai|artificial intelligence|program|computer program|chatbot|chat bot"
    "|software|assistant|virtual assistant)",
    "synthetic": "[(from|of|by)] [a|an] (human|person|real person|real human|real|synthesized"
    "|synthesised|synthetic|computer generated|artificial|recorded|recording|fake|generated"
    "|computer|machine|robot|text to speech|tts)",
    # spell
    "word": "[the word|the name|the spelling of] {word}",
    "unsure_how": "(i dont know how (its|it is|to) (spelt|spelled|spell it|spell)"
    "|i (always forget|forget|cant remember) how (its|it is|to) (spelt|spelled|spell it|spell)"
    "|i dont know)",
    # timers
    "set": "(set|start|make|create|put on|put|begin|run|add|set up|start up|give me"
    "|i need|i want|i would like|id like)",
    "the": "(a|an|the|my|one|another|new|a new)",
    "timer": "(timer|countdown|count down)",
    "kinds": "[(type|types|kind|kinds|sort|sorts) of] (questions|things|stuff|requests|tasks"
    "|commands|topics|subjects)",
    "cancel": "(cancel|stop|delete|remove|clear|turn off|switch off|kill|end|dismiss|abort"
    "|disable|shut off|get rid of|cancel out|call off)",
    "going_off": "(to go off|that goes off|that will go off|to ring|that rings|that will ring"
    "|to end|that ends|to finish|to alert me|to beep|to expire|going off)",
    "from_now": "(from now|starting now|from right now)",
    "passed": "(have|has) (passed|gone by|elapsed|gone|expired|past|been|gone past)",
    "left": "(left|remaining|remains|is left|is remaining|remain|to go|is there left"
    "|do i have left|have i got left)",
}

INTENTS: dict[str, list[str]] = {
    "time": [
        "[<tell>] what time (is it|it is|do you have) [<now>]",
        "[<tell>] what time of [the] day (is it|it is) [<now>]",
        "[<tell>] what hour (is it|it is) [<now>]",
        "[<tell>] (whats|what is) the [exact|current|correct|local|present] time [<now>]",
        "[<tell>] [the] (exact|current|correct|local|present) time [<now>]",
        "[<tell>] the time [<now>]",
        "[<tell>] (whats|what is|what does|what do) the clock (say|show|read|says)",
        "[<tell>] what the clock (says|shows|reads)",
        "(do you have|have you got|got) the time",
        "time [check|now]",
    ],
    "date": [
        "[<tell>] [<what_is>] [the] [current|present|exact|todays] date [<now>]",
        "[<tell>] (whats|what is) today",
        "[<tell>] (what|which) (date|day|day of the week|day of the month|weekday) (is it"
        "|it is|is today|today is) [<now>]",
        "[<tell>] (whats|what is|what was|what will be) {days} [<now>]",
        "[<tell>] [<what_is>] {days} date",
        "[<tell>] what (date|day|day of the week) (is|was|will be|will it be|would it be"
        "|is it|was it|is it going to be) {days}",
        "[<tell>] (what is|whats|what was|what will be|what will|what would be) the date"
        " [be|going to be] [on] {days}",
        "[<tell>] what will the (date|day) be {days}",
        "[<tell>] the date {days}",
    ],
    "spell": [
        "[<tell>] how (do|does|would|should|can|could|shall|will) (you|i|one|we|someone"
        "|people) spell <word> [<unsure_how>]",
        "[<tell>] (how is|hows|how are|how do you spell|how would you spell) <word> (spelled"
        "|spelt|spelt out|spelled out|written) [<unsure_how>]",
        "[<tell>] how to spell <word> [<unsure_how>]",
        "[<polite>] spell [out] <word> [for me] [<unsure_how>]",
        "[<polite>] (help me|i need help|i need some help|can you help me|could you help me)"
        " (spell|spelling|with spelling|to spell|with the spelling of) <word> [<unsure_how>]",
        "[<tell>] [<what_is>] the [correct|right|proper] spelling (of|for) <word>",
        "<word> how do you spell (it|that)",
    ],
    "identity": [
        "[<tell>] (whats|what is) your [real|full] name",
        "[<tell>] your name",
        "[<tell>] what (do|should|can|shall|may) (i|we|people|they|others) call you",
        "[<tell>] how (do|should|can|shall) i (call|address) you",
        "[<tell>] (what|which) name do you (go by|use|have|answer to)",
        "[<tell>] what are you called",
        "[<tell>] who (are you|you are|am i (talking|speaking|chatting) (to|with)"
        "|is (this|speaking|talking))",
        "[<tell>] what are you",
        "[<tell>] do you have a name",
        "[<tell>] (are you|if you are|whether you are|if youre|whether youre|are you really"
        "|is this|is that|if this is|whether this is) <being> [or [are] [you] <being>]",
        "[<tell>] (am i|if i am|whether i am|if im) (talking|speaking|chatting) (to|with)"
        " <being> [or <being>]",
        "[<tell>] (is|if|whether) (your|this) voice [is] <synthetic> [or [is it] <synthetic>]",
        "[<tell>] are you (real|human|alive|sentient|a real person)",
    ],
    "capabilities": [
        "help [me]",
        "[<tell>] what [else] (can|could) you (do|help [me] with|do for me|help me do|answer"
        "|talk about)",
        "[<tell>] what [else] you can (do|help [me] with|do for me|answer)",
        "[<tell>] what [are] [some] <kinds> (can|could|should|may) i (ask|give) [you] [about]",
        "[<tell>] what [are] [some] <kinds> i (can|could|should|may) (ask|give) [you] [about]",
        "[<tell>] what [are] [some] <kinds> (can you|you can|could you|do you) (answer|do"
        "|help [me] with|handle|know about|talk about)",
        "[<tell>] what can i ask [you] [about]",
        "[<tell>] what can i (say to|use) you [for]",
        "[<tell>] how (can|could|do|will) you help [me]",
        "[<tell>] what are you (able to do|good at|capable of|good for|for)",
        "[<tell>] what are your (capabilities|skills|features|abilities|functions)",
        "[<tell>] what (do you do|can i do with you)",
    ],
    # Small talk with one right reply: said back by a small model ("thanks a million."),
    # answered here.
    "greeting": [
        "(hello|hi|hey|hiya|howdy|greetings|good (morning|afternoon|evening|day)|morning"
        "|evening) [there|everyone|again|friend|vistavox] [[and] good (morning|afternoon"
        "|evening|day)]",
    ],
    "thanks": [
        "(thanks|thank you|thanks a lot|thanks a million|thanks so much|thank you so much"
        "|thank you very much|many thanks|much appreciated|cheers) [(for|for all) [the|your"
        "|that|this|my] (help|helping|response|answer|info|information|reply|assistance"
        "|everything|that|it)] [vistavox]",
    ],
    "goodbye": [
        "(bye|goodbye|good bye|bye bye|see you|see you later|see ya|talk to you later"
        "|good night|goodnight|farewell|thats all|that is all) [for now] [vistavox]",
    ],
    "timer_list": [
        "[<tell>] what timers (do i have|are (running|set|on|active|going)|have i set|i have)"
        " [running|set|going]",
        "[<polite>] (list|show [me]|check [on]|read [out]) [all] [the|my] timers",
        "[<tell>] (do i have|are there|have i got|is there) any (timers|timer) [(running|set"
        "|going|on)]",
        "[<tell>] how (much time|long|many minutes|many seconds) [is] <left> (on|for|in)"
        " [the|my] [{label}] <timer>",
        "[<tell>] how (much time|long) [is] <left>",
        "[<tell>] how (much longer|much more time|long) (on|for) [the|my] [{label}] <timer>",
        "[<tell>] how (long|much time) (until|till|before) [the|my] [{label}] <timer>"
        " (goes off|is done|rings|ends|finishes|is up)",
        "[<polite>] check [on] [the|my] [{label}] <timer>",
        "(timer|timers) (status|check)",
    ],
    "timer_cancel_all": [
        "[<polite>] <cancel> (all|all the|all of the|all my|all of my|every|each of the|the"
        "|my) timers",
        "[<polite>] <cancel> (every|each) timer",
    ],
    "timer_cancel": [
        "[<polite>] <cancel> [the|my|that|this] {duration} <timer>",
        "[<polite>] <cancel> [the|my|that|this] <timer> for {duration}",
        "[<polite>] <cancel> [the|my|that|this] [{label}] <timer>",
        "[<polite>] <cancel> [the|my|that] <timer> (for|called|named|on) [the|my] {label}",
        "(never mind|nevermind|forget) [about] [the|my|that] [{label}] <timer>",
        "(i dont need|i no longer need) (the|my|that) [{label}] <timer> [anymore]",
    ],
    "timer_set": [
        "[<polite>] <set> [<the>] [{label}] <timer> [on|going|set|started] (for|of|on|at|with)"
        " {duration} [<from_now>] [(for|called|named|labeled|labelled) [the|my] {label}]",
        "[<polite>] <set> [<the>] {duration} [{label}] <timer> [on|going]"
        " [(for|called|named|labeled|labelled) [the|my] {label}]",
        "[<polite>] <set> [<the>] [{label}] <timer> <going_off> (in|after) {duration}",
        "[<polite>] <set> [<the>] [{label}] <timer> {duration} [<from_now>]",
        "[<polite>] <set> [<the>] <timer> (for|on) [the|my] {label} (for|of) {duration}",
        "[<polite>] (start|begin) [<the>] (counting down|countdown|count down) (from|for)"
        " {duration}",
        "[<polite>] (time me|count down|countdown) (for|from) {duration}",
        "<timer> [for] {duration}",
        "{duration} <timer>",
        "(in|after) {duration} [the|my|a] <timer> (should|must|needs to|has to|will|can)"
        " (go off|ring|end|beep|sound)",
        "[the|my] <timer> should (go off|ring|end|beep|sound) in {duration}",
        "[<polite>] (let me know|tell me|alert me|notify me|ping me|remind me|warn me"
        "|give me a shout|buzz me) (when|once|after) (its been|it has been|it is|its) {duration}",
        "[<polite>] (let me know|tell me|alert me|notify me|ping me|remind me|warn me)"
        " (when|once|after) {duration} <passed>",
        "[<polite>] (let me know|alert me|notify me|ping me|remind me|wake me up|wake me"
        "|warn me|buzz me) (in|after) {duration}",
        "[<polite>] remind me (in|after) {duration} to {task}",
        "[<polite>] remind me to {task} (in|after) {duration}",
    ],
    "convert": [
        "[<tell>] <how_many> {to:unit} <are_in> [in|into|to|from|of] {quantity}",
        "[<tell>] <how_many> {to:unit} in {quantity}",
        "[<tell>] <how_many> {to:unit} (does|do|would|will|can) {quantity} (make|equal|have"
        "|contain|convert to|come to|give|give me|be|hold)",
        "[<tell>] [<what_is>] {quantity} (in|to|into|as|converted to|in terms of|expressed in"
        "|equal to in|equals in|equal in|converted into) [<a>] {to:unit}",
        "[<polite>] (convert|change|turn|translate|switch) {quantity} (to|into|in) [<a>] {to:unit}",
        "[<tell>] {quantity} (is|equals|makes|is equal to|is how many|equals how many)"
        " [how many] {to:unit}",
        "[<tell>] what (is|does) {quantity} (equal|convert to|come to|make) in {to:unit}",
    ],
    "convert_factor": [
        "[<tell>] how (do|does|would|can|should|could) (you|i|we|one) (convert|change|go"
        " from|get from|turn|translate) [from] [<a>] {from:unit} (to|into|in) [<a>] {to:unit}",
        "[<polite>] (convert|change) [from] {from:unit} (to|into) {to:unit}",
        "[<tell>] [<what_is>] (the|a) (formula|equation|way|rule) (to|for) (convert|converting"
        "|change|changing|go from|going from|get from|getting from) [from] {from:unit}"
        " (to|into) {to:unit}",
        "[<tell>] [<what_is>] [the] (conversion|conversion factor|conversion rate|ratio"
        "|relationship|conversion ratio|conversion formula|formula) (from|between|for|of)"
        " [<a>] {from:unit} (to|and|into) [<a>] {to:unit}",
        "(i need|i want|give me|show me) [the] (conversion|conversion factor|conversion rate"
        "|ratio|relationship|conversion ratio) (from|between|for|of) [<a>] {from:unit}"
        " (to|and|into) [<a>] {to:unit}",
        "(i need|i want|give me) [<a>] {from:unit} (to|into|in) [<a>] {to:unit}",
        "{from:unit} (to|into|in) {to:unit} [conversion|conversion factor|conversion rate]",
    ],
    "calculate": [
        "[<tell>] [<what_is>] [<result_of>] {expression} [<equals> [what]]",
        "[<tell>] what {expression} <equals>",
        "[<polite>] <compute> [me] [<result_of>] {expression}",
        "<polite> {expression}",
        "[<tell>] how much (is|are|do|does|would|will|would be) {expression} [cost|come to|be"
        "|cost me|cost in total|in total|total|altogether]",
        "[<tell>] what do (you|i|we) get (when|if) (you|i|we) {expression}",
    ],
}
