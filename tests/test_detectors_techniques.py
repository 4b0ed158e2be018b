"""Agent techniques (T.*), lexical tier: positives, near misses and negations per id.

Every case is a short conversation written for these tests (chat, email, phone and tweet
registers); the turn checked is the last one. Context cases check what needs the rest of
the conversation: outcome answers need an outcome question, follow-ups an earlier
exploring reply, labels a feeling the customer did not name, personal replies the
customer's own details.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heard.detectors import case
from heard.detectors.agent import open_outcome_question
from heard.detectors.base import Doc
from heard.model import MAX_TURN_CHARS
from heard.testing import (
    assert_finds,
    assert_not_finds,
    conversation,
    findings,
    lexical_pipeline,
    run,
)

Turns = list[tuple[str, str]]

C = "customer"
A = "agent"


def convo(*turns: str) -> Turns:
    """Alternate customer / agent turns, starting with the customer."""
    return [(C if k % 2 == 0 else A, text) for k, text in enumerate(turns)]


# Per id: (positives, near misses). A near miss shares words or shape with the technique
# but is not it (negations, requests for identifiers, sign-offs, stock lines ...).
CASES: dict[str, tuple[list[Turns], list[Turns]]] = {
    "T.acknowledge": (
        [
            convo(
                "My parcel is a week late and nobody answers.",
                "That must be so frustrating after a week of waiting.",
            ),
            convo(
                "I've been on hold three times today",
                "I completely understand how draining this has been for you.",
            ),
            convo("the app deleted all my notes", "Oh no, that's not what we want to hear at all!"),
            convo("i had to reinstall twice", "ugh that sounds like a real hassle, sorry"),
            convo(
                "You charged me twice.", "I can see why you\u2019d be upset about a double charge."
            ),
            convo("my card got declined at the till", "that shouldnt be happening - lets look"),
            convo("The engineer never came.", "You have every right to feel let down by that."),
            convo("Third time I'm asking!", "Fair point, and you shouldn't have to ask twice."),
            convo(
                "I just want an answer", "It makes complete sense that you want a straight answer."
            ),
            convo("The boiler broke again", "You've had a really rough week with this boiler."),
            convo("Nobody helped me", "I won't pretend this is a small thing for you."),
            convo("Still no refund", "I know the missing refund has caused you real stress."),
        ],
        [
            convo("Can I return it after a month?", "I understand the policy allows 30 days."),
            convo("Does it show now?", "I can see how the page looks on your screen now, thanks."),
            convo("Is it a small fee?", "Yes, it makes sense to pay it now rather than later."),
            convo("When do you close?", "Please understand that we close at 5pm on Sundays."),
            convo("Where is it?", "I see your order left our warehouse on Monday."),
            convo("Can you send a label?", "Sounds good, I'll send the label now."),
            convo("It broke again.", "Honestly I don't understand your frustration here."),
            convo("Thanks for the help", "You're welcome, have a nice evening!"),
        ],
    ),
    "T.label": (
        [
            convo(
                "I've asked for this refund four times now.",
                "I can imagine how frustrating it is to keep chasing us.",
            ),
            convo(
                "The delivery was meant for my daughter's birthday.",
                "That must be really upsetting, with the birthday so close.",
            ),
            convo(
                "I was charged for a plan I never chose",
                "You must be worried about what else has been billed.",
            ),
            convo(
                "this is the third router you sent",
                "I can hear how exhausted you are with all of this.",
            ),
            convo(
                "Nobody told me the flight was moved.",
                "I understand the confusion, the change was not explained.",
            ),
            convo("My claim was rejected again.", "That sounds disheartening after all this."),
            convo(
                "The card failed at the restaurant.",
                "I'm guessing this has left you feeling pretty embarrassed.",
            ),
        ],
        [
            convo("Did you call me?", "Yes, we left you a voicemail this morning."),
            convo("I'm so embarrassed, it failed twice.", "It sounds like you're embarrassed."),
            # the customer named the feeling: acknowledging it is not labelling
            convo(
                "I'm so frustrated with this billing mess.",
                "I understand your frustration with the billing.",
            ),
            convo(
                "Honestly I'm worried my data is gone", "I can see you're worried about your data."
            ),
            convo("It keeps crashing", "Let me look into the crash logs for you."),
            convo("My order is late", "Your order is on its way and should arrive tomorrow."),
            convo(
                "Charged twice!", "I don't understand the frustration, the second charge is a hold."
            ),
            convo("Thanks", "If you're unhappy with today's call, you can rate it in the app."),
        ],
    ),
    "T.mirror": (
        [
            convo(
                "The app logs me out every time I switch to Wi-Fi.",
                "Just to confirm, you're logged out each time the phone joins Wi-Fi?",
            ),
            convo(
                "my bill went up but my plan didn't change",
                "So what you're saying is the price rose while the plan stayed the same.",
            ),
            convo(
                "I paid for express and it came in 9 days.",
                "If I understand correctly, you paid for express and waited nine days.",
            ),
            convo(
                "The heater clicks but never lights.",
                "So the heater clicks and does not light - did I get that right?",
            ),
            convo(
                "I want the refund, not another voucher.",
                "Let me make sure I understand: a refund to your card, not a voucher. Is that "
                "right?",
            ),
            convo(
                "The refund never came",
                "So to confirm, the refund went to the card you closed last year?",
            ),
            convo(
                "No signal since Tuesday",
                "Sounds like you've had no signal at home since the mast work, yes?",
            ),
            convo(
                "My water is off",
                "You're telling me the water has been off since 7am, have I got that right?",
            ),
        ],
        [
            convo("Thanks!", "To confirm, your refund has been sent to your card."),
            convo("No signal", "Sounds like you've had a long day, let's sort it."),
            convo("Is it sorted?", "So the refund was sent on Monday."),
            convo("It's broken", "Can you confirm your order number?"),
            convo("It's broken", "What model is it?"),
            convo("Did the payment go through?", "Yes, it went through this morning."),
            convo("It crashed", "Please restart the app and try again."),
        ],
    ),
    "T.audit": (
        [
            convo(
                "This is my fifth email and I still have nothing.",
                "I can see how this looks from your side - five emails and no answer.",
            ),
            convo(
                "you guys clearly don't care", "It must feel like nobody here is listening to you."
            ),
            convo(
                "I got bounced between four departments",
                "You've been passed around, and that's not the service we aim for.",
            ),
            convo(
                "Robot replies again?",
                "Our apologies for coming across as automated in the earlier replies.",
            ),
            convo(
                "Three weeks and no callback.",
                "We've let you down here, and I'd feel the same in your shoes.",
            ),
            convo(
                "Nobody ever replies.",
                "You'd be forgiven for thinking we had forgotten about you.",
            ),
            convo(
                "Four emails, no answer.",
                "I can see why it looks like we've been ignoring your emails.",
            ),
            convo("Two different answers!", "If I were in your shoes, I'd be losing faith in us."),
        ],
        [
            convo("Where is it?", "I can see your parcel is at the depot."),
            convo("Why the charge?", "I can see why the bill looks higher: it covers two months."),
            convo("Is it safe?", "You'd be forgiven the fee if you cancel within 14 days."),
            convo("When?", "It looks like it will arrive on Friday."),
            convo("Hello?", "It seems the page is down for maintenance."),
            convo("Why so slow?", "From our records, the order shipped yesterday."),
            convo("Any news?", "We have not let the case go; the team is on it."),
        ],
    ),
    "T.apologize": (
        [
            convo("My order arrived smashed.", "I'm so sorry your order arrived broken."),
            convo("three hours on hold!!", "sooo sorry about the wait"),
            convo(
                "The technician didn't show up.",
                "Please accept our apologies for the missed visit.",
            ),
            convo("wrong size again", "Apologies, that was our mistake."),
            convo(
                "You billed me twice",
                "We sincerely regret the inconvenience caused by the double charge.",
            ),
            convo("Still waiting", "My bad - I should have updated you yesterday."),
        ],
        [
            convo("This is ridiculous.", "I'm not sorry for following the rules."),
            convo("Sorry to bother you again", "No need to apologise, happy to help."),
            convo("I'm angry", "I'm sorry you feel that way."),
            convo("hi", "Sorry? Could you say that again?"),
            convo("Thanks", "Don't be sorry, it was a pleasure."),
        ],
    ),
    "T.explore": (
        [
            convo("My laptop keeps shutting down.", "What happens right before it shuts down?"),
            convo("the speaker is making a noise", "Does it happen on every song, or only some?"),
            convo("It still doesn't work.", "What have you already tried so far?"),
            convo("The heating stopped.", "When did you first notice it stopped?"),
            convo(
                "my refund never showed",
                "Could you tell us a bit more about what happened at the checkout?",
            ),
            convo(
                "My account is acting weird", "Are you seeing any error messages when you sign in?"
            ),
            convo("I need this sorted today.", "What matters most to you in how we fix this?"),
            # the same openings, exploring the problem
            convo("the app crashes", "Is there anything on screen when it crashes, a code?"),
            convo("my bill is wrong", "Do you have the same charge on last month's bill too?"),
            convo("the wifi drops", "Is it happening on the cable as well, or only on wifi?"),
        ],
        [
            convo("It's not working.", "What is your order number?"),
            convo("It's not working.", "Could you DM us your account email address?"),
            convo("It's not working.", "Can you confirm your flight number and surname?"),
            convo("It's not working.", "Can you try restarting the router and let us know?"),
            convo("It's not working.", "Is there anything else we can help you with today?"),
            convo("It's not working.", "Moving on, is there anything else?"),
            # stock offers and permission questions phrased as yes/no questions
            convo("It's not working.", "Is there anything console related that we can help with?"),
            convo("It's not working.", "Do you have a billing related question or concern?"),
            convo("It's not working.", "Is it possible we can run the test over a cable instead?"),
            convo("My train was late", "What time was your train?"),
            # an accusing question interrogates (X.why); it does not explore
            convo(
                "The rate can't be refunded?",
                "What did you expect would happen if you chose the non-refundable rate?",
            ),
            convo(
                "My laptop keeps shutting down.",
                "I see what happened here. The battery setting was off.",
            ),
        ],
    ),
    "T.ask_commitment": (
        [
            convo(
                "The app freezes on start.",
                "Could you try clearing the app's cache and let us know how it goes?",
            ),
            convo(
                "my tv has no signal", "Please unplug the box for 30 seconds, then plug it back in."
            ),
            convo(
                "Still nothing after the update.",
                "Keep us in the loop once you've tried the steps.",
            ),
            convo(
                "Can you check my account?",
                "Would it be okay if I put you on hold for two minutes?",
            ),
            convo(
                "the printer won't connect", "Let's have you forget the network and join it again."
            ),
            convo("no sound on calls", "Does turning Bluetooth off and on again help at all?"),
            convo("the wifi drops", "Is it possible we can run the speed test over a cable?"),
        ],
        [
            convo("I want to update my details.", "Please DM us your full name and address."),
            # possibility as a question of fact, not a request for permission
            convo("the wifi drops", "Is it possible that the router is too far away?"),
            convo("It crashed", "We tried restarting the server on our side."),
            convo("Thanks, all good", "Let us know if you need anything else!"),
            convo("Who can help?", "Please contact the manufacturer about the warranty."),
            convo("It crashed", "Don't restart it yet, we need the logs."),
            convo("Can you help?", "When you have a moment, please send us a message."),
            convo("Help!", "How would we be able to help?"),
        ],
    ),
    "T.confirm_root": (
        [
            convo(
                "I want a refund and a manager NOW.",
                "It sounds like the real issue is that the part won't arrive before your trip.",
            ),
            convo(
                "You people are useless",
                "What matters most here is getting you back online tonight, is that right?",
            ),
            convo(
                "Cancel everything.",
                "Is the main concern the price, or the outages? That's where I'd focus.",
            ),
            convo(
                "I'm done with this.",
                "If we fix the billing error today, would that sort things out for you?",
            ),
            convo(
                "This is a joke.",
                "So the biggest worry is that you'll be charged again next month?",
            ),
        ],
        [
            convo("What's wrong?", "The issue is with our courier's depot."),
            convo("Why?", "The main office is closed on Sundays."),
            convo("Help", "Let's focus on the form first."),
            convo("It broke", "I don't think the real issue is the cable."),
            convo("Hi", "The problem is fixed now."),
        ],
    ),
    "T.outcome_answer": (
        [
            convo(
                "When will my refund arrive?", "It will reach your card within 3-5 business days."
            ),
            convo(
                "how long does a replacement take??", "Usually about two days once it's dispatched."
            ),
            convo("Can you remove the late fee from my bill?", "Yes, I've removed the late fee."),
            convo("will it be here before friday", "It should arrive by Thursday."),
            convo(
                "Is there any way to get my money back?",
                "You're entitled to a full refund since the train was cancelled.",
            ),
            # an older outcome question stays open while the agent asks for details first
            convo(
                "When will my refund arrive?",
                "What's the booking reference?",
                "ABC123",
                "The refund will be processed by Friday.",
            ),
        ],
        [
            # no outcome question asked: the same words are not an answer to one
            convo(
                "My router keeps dropping the connection.",
                "It will reach your card within 3-5 business days.",
            ),
            convo("Thanks for the info", "It should arrive by Thursday."),
            # process, not outcome
            convo("When will my refund arrive?", "Please DM us so we can look into it."),
            convo("When will my refund arrive?", "I can't promise it will arrive by Thursday."),
            convo("When will my refund arrive?", "We're looking into it with the payments team."),
            # already answered before: a later repeat is not a new answer
            convo(
                "When will my refund arrive?",
                "It will reach your card within 3 days.",
                "ok",
                "Within 3 days, as I said.",
            ),
        ],
    ),
    "T.commit": (
        [
            convo("Nobody ever calls back.", "I'll call you back by 4pm today with an update."),
            convo(
                "The bill is wrong.",
                "I've escalated this to our billing team and they'll email you within 24 hours.",
            ),
            convo(
                "When will someone come?",
                "Our engineer will visit on Tuesday morning between 8 and 12.",
            ),
            convo(
                "Please sort it",
                "I will send the replacement today and text you the tracking number.",
            ),
            convo("I work shifts", "What's the best time to reach you tomorrow?"),
            convo(
                "Is the meter reading wrong?",
                "I'll check the reading myself and text you by 6pm with what I find.",
            ),
            convo(
                "Can I get money back?", "I'll authorise the refund today, you'll see it Friday."
            ),
        ],
        [
            convo("Nobody ever calls back.", "I can't promise anything, sorry."),
            convo("Is the meter reading wrong?", "I'll check with the team."),
            convo("The bill is wrong.", "We'll look into it and get back to you soon."),
            convo("Any news?", "Someone will be in touch shortly."),
            convo("Please sort it", "We will not call you back today."),
            convo("Is it fixed?", "The team is working on it as soon as possible."),
            convo("We won 2-0!", "Ha, I'd call that a great result."),
            convo("Can you look?", "We can have a look. However, returns close within 7 days."),
        ],
    ),
    "T.boundary": (
        [
            convo(
                "Refund me the full year.",
                "I can't refund the whole year, but I can refund the three months since the fault.",
            ),
            convo(
                "Give me the engineer's number.",
                "I'm not able to share staff numbers; however, I can pass your message to him "
                "directly.",
            ),
            convo(
                "Change my flight for free.",
                "I'm unable to waive the fare difference. What I can do is move you to the 6pm "
                "flight at no fee.",
            ),
            convo(
                "Just tell me the account balance here",
                "We can't discuss account details on a public channel. In this case, let's "
                "continue by private message.",
            ),
            convo(
                "Override it!",
                "While I can't override the system, I can ask my supervisor to approve it today.",
            ),
        ],
        [
            convo("Refund me.", "I can't do anything about that."),
            convo("Fix it.", "My hands are tied, it's company policy."),
            convo("Call me.", "I can call you at 5."),
            convo("Any chance?", "We could not find your booking."),
            convo("Change it.", "I won't be able to."),
        ],
    ),
    "T.policy_benefit": (
        [
            convo(
                "Why do I need to verify again?",
                "We ask for this for security reasons, so nobody else can reach your account.",
            ),
            convo(
                "why the hold on my card",
                "It's a temporary hold used to verify your payment method; it drops off in a few "
                "days.",
            ),
            convo(
                "Why can't I board early?", "Boarding by group keeps it fair to every passenger."
            ),
            convo(
                "Why check my ID?",
                "It's for your safety - it stops someone else collecting your parcel.",
            ),
            convo(
                "Why only by DM?",
                "We only handle account questions by private message to protect your details.",
            ),
            # a policy and what it makes possible
            convo(
                "Why do I need a photo?",
                "Our policy is to ask for a photo of the meter so that bills match real readings.",
            ),
            convo(
                "Why test drive it again?",
                "Our rule is that every car gets a road test, so we know the fault is fixed.",
            ),
            convo(
                "Why the deposit?",
                "We need a deposit at check-in, to keep prices down for everyone.",
            ),
        ],
        [
            convo("Why?", "It's our policy."),
            # a consequence, a condition, the purpose of a request: not a benefit
            convo("Can I return it?", "It's our policy, so we can't take it back after 30 days."),
            convo("Why?", "Our policy changed, so it may not be possible now."),
            convo("Are they advance tickets?", "If so they follow the fare rules, I'm afraid."),
            convo("Why?", "We need your order number so that we can assist further."),
            convo("Why?", "Those are the rules, I'm afraid."),
            convo("Can I?", "Please keep your receipt."),
            convo("Why?", "We reviewed your security settings."),
            convo("Why?", "Safety first, have a great day!"),
        ],
    ),
    "T.refocus": (
        [
            convo(
                "You ruined my holiday!!",
                "I'm sorry it went this way. Let's focus on getting your new tickets booked.",
            ),
            convo(
                "Your courier is useless",
                "I understand how annoying this is. Here's what I can do right now: reship it "
                "today.",
            ),
            convo(
                "This is your fault",
                "That must be frustrating. The next step is to book an engineer, and I'll do "
                "that now.",
            ),
            convo("I've wasted a whole day", "I'm so sorry. Let's get this sorted for you."),
            convo(
                "Unbelievable service",
                "I hear you. Going forward, I'll be your contact for this case.",
            ),
            # setting the blame or the past aside in so many words needs no acknowledgement
            convo(
                "You lot lost my parcel",
                "Let's leave the blame aside for now and get a replacement out to you.",
            ),
            convo(
                "Whose fault is this?",
                "Rather than go back over who did what, let's get your heating working.",
            ),
            convo("This is a joke", "Can we take a step back and look at getting you a refund?"),
            convo(
                "Why did this happen?",
                "I can't change what already happened, but I can get it fixed today.",
            ),
        ],
        [
            # a plan with no acknowledgement first is not "acknowledge and refocus"
            convo("Hi", "Let's focus on the form first."),
            convo("My parcel is heavy", "Put the box aside and check the label on the back."),
            convo("Can we talk terms?", "We can go over the contract on Friday."),
            convo("Is express faster?", "Rather than the standard option, pick express."),
            convo("You ruined my holiday!!", "The next step is in our FAQ."),
            convo("Hi", "Let's get this sorted."),
            convo("Bad service", "I'm sorry for the delay."),
            convo("Bad service", "I understand."),
        ],
    ),
    "T.plan_b": (
        [
            convo(
                "That didn't work either.", "I'll escalate this to our network specialists today."
            ),
            convo(
                "I want someone senior",
                "Let me check with my supervisor and come straight back to you.",
            ),
            convo(
                "The reset did nothing.",
                "As a workaround, you can use the web version until the fix is out.",
            ),
            convo(
                "My flight is delayed again",
                "We've added a backup flight for you this evening, just in case.",
            ),
            convo(
                "I can't make that slot",
                "Alternatively, we can arrange a callback at a time that suits you.",
            ),
            convo(
                "Still no hot water.",
                "Try the reset once more. If it's still not working, I'll send an engineer.",
            ),
            convo("I can't stay here tonight", "Would you like me to arrange a hotel nearby?"),
            convo(
                "Can you waive the fee?",
                "I can't waive it myself; what I can do is escalate it to the billing manager.",
            ),
        ],
        [
            convo("Can you escalate?", "I'm not able to escalate this."),
            convo("Is it fixed?", "If it's still not working after the update, that's unusual."),
            convo("Can I get the link?", "Would you like me to send the link again?"),
            convo("What can you do?", "What I can do is explain how the fee is worked out."),
            convo("Any other way?", "There's no other option, sorry."),
            convo("Hi", "Thanks for your message."),
            convo("Help", "Please restart the router."),
            convo("Escalate now", "Escalation isn't needed; the fix is already live."),
        ],
    ),
    "T.warm_handoff": (
        [
            convo(
                "I need billing.",
                "I'm bringing in Priya from billing now; I'll stay on the chat with you.",
            ),
            convo(
                "Can someone technical help?",
                "I'm transferring you to our technical team, and I'll check back with you in 30 "
                "minutes.",
            ),
            convo(
                "Who handles refunds?",
                "I've asked our refunds team to call you by 3pm today, and I'll stay your point "
                "of contact.",
            ),
            convo(
                "This needs a specialist",
                "I'm handing this over to Marco, our router specialist; I've explained "
                "everything so you won't have to repeat it.",
            ),
            convo(
                "I'd like a manager",
                "I'm connecting you with my supervisor right now and I'll stay on the line.",
            ),
            convo(
                "Nobody can sort my boiler.",
                "Our heating team handles this, so I've put you with Rosa. She's expecting "
                "your call, and I'll check in with you tomorrow.",
            ),
            convo(
                "I keep being bounced around.",
                "I've briefed Tom in the claims team on everything you've told me. He will "
                "ring you by 4pm.",
            ),
            convo(
                "Who can fix the meter?",
                "Our engineer, Ade, will take over the visit. I'll stay as your contact.",
            ),
        ],
        [
            convo("I need billing.", "Please contact the billing team."),
            convo("Can I change my plan?", "I've put you with the new plan, it starts today."),
            convo("Is anyone coming?", "We're expecting you at the depot."),
            convo("Any news?", "I've briefed my manager on what happened."),
            convo("Who can help?", "I'm transferring you to another department."),
            convo("Who can help?", "Call the manufacturer on their helpline."),
            convo("Can someone technical help?", "Our technical team will get back to you soon."),
            convo("Help", "I won't be transferring you."),
        ],
    ),
    "T.remedy": (
        [
            convo(
                "The package was two weeks late.",
                "I've added a \u00a310 credit to your account for the delay.",
            ),
            convo("Your app crashed during my order", "Your next delivery is on us."),
            convo(
                "Third time the driver missed me",
                "As a gesture of goodwill, I'd like to offer you free delivery for a year.",
            ),
            convo("The room wasn't clean.", "I've waived the late checkout fee for you."),
            convo("wrong item AGAIN", "we can refund you in full and you can keep the item"),
        ],
        [
            convo("Can I get a refund?", "You can claim a refund on our website."),
            convo("Compensation?", "I'm afraid we can't offer a refund for this."),
            convo("How do I pay?", "Feel free to use any card."),
            convo("Can I use a voucher?", "Vouchers can be used at checkout."),
            convo("Any deal?", "There is no discount available on this plan."),
            convo("Is food included?", "Long-haul flights have complimentary meals."),
            convo("What if it's lost?", "We offer a money-back guarantee on every order."),
        ],
    ),
    "T.document": (
        [
            convo(
                "The screen flickers when it's cold.",
                "I've noted that it flickers when the room is cold.",
            ),
            convo(
                "I was promised a callback last week", "Let me make a note of that on your file."
            ),
            convo("It's the third failure", "I've logged all three failures so we get this right."),
            convo("My new address is 12 Elm Road", "Thanks, that's now on record."),
            convo("Sharing my feedback", "I'll record your feedback for the store manager."),
        ],
        [
            convo("Hi", "Please note that we close at six."),
            convo("Hi", "Note: prices may change."),
            convo("Did you log it?", "I didn't log it yet."),
            convo("Hi", "You can download the log from settings."),
            convo("Hi", "Please record the serial number yourself."),
            convo("It's broken", "Please call us so that we can take note of the fault."),
        ],
    ),
    "T.thank": (
        [
            convo("Here's the photo of the damage.", "Thank you for sending the photo so quickly."),
            convo(
                "sorry for all the messages", "Thanks for your patience while we sorted this out!"
            ),
            convo(
                "Just letting you know the lights are out on Elm Street",
                "Many thanks for flagging this, we'll pass it on.",
            ),
            convo("here is my booking: ABC123", "thx! checking it now"),
            convo("OK I'll wait", "We really appreciate your understanding."),
        ],
        [
            convo("Can you help?", "We'll look into it. Thanks - Sam"),
            convo("Can you help?", "Please DM us your postcode. Thank you, Team Acme"),
            convo("Anything else?", "No thanks needed!"),
            convo("Thanks", "Thanks for nothing, I guess."),
            convo("bye", "You're welcome, take care."),
        ],
    ),
}

IDS_IN_CASES = sorted(CASES)


def _case_ids(id: str, kind: int) -> list[str]:
    return [f"{id}-{k}" for k in range(len(CASES[id][kind]))]


POSITIVE_PARAMS = [(id, turns) for id in IDS_IN_CASES for turns in CASES[id][0]]
NEAR_MISS_PARAMS = [(id, turns) for id in IDS_IN_CASES for turns in CASES[id][1]]


@pytest.mark.parametrize(("id", "turns"), POSITIVE_PARAMS)
def test_positive(id: str, turns: Turns) -> None:
    found = assert_finds(id, turns)
    assert found.detector.startswith("lexical.")
    assert found.explanation
    s, e = found.span
    assert turns[-1][1][s:e] == found.text


@pytest.mark.parametrize(("id", "turns"), NEAR_MISS_PARAMS)
def test_near_miss(id: str, turns: Turns) -> None:
    assert_not_finds(id, turns)


def test_every_technique_has_cases() -> None:
    from heard.catalog import catalog

    techniques = {e.id for e in catalog().values() if e.kind == "technique"}
    covered = set(CASES) | {"T.follow_up", "T.personal"}
    assert techniques <= covered
    for id, (positives, near_misses) in CASES.items():
        assert len(positives) >= 5 and len(near_misses) >= 5, id


# -- negations named in the brief -----------------------------------------------------------


@pytest.mark.parametrize(
    ("id", "text"),
    [
        ("T.apologize", "I'm not sorry about the policy."),
        ("T.apologize", "We never apologise for safety checks."),
        ("T.commit", "I can't promise anything."),
        ("T.commit", "We won't call you back today."),
        ("T.explore", "What's your order number?"),
        ("T.explore", "Which device are you using?"),
        ("T.thank", "No thanks, that's all."),
        ("T.ask_commitment", "Don't unplug the router yet."),
        ("T.remedy", "We can't offer a discount on that."),
        ("T.plan_b", "We are unable to escalate this."),
        ("T.acknowledge", "I don't understand your frustration."),
        ("T.label", "I don't understand your frustration."),
    ],
)
def test_negated(id: str, text: str) -> None:
    assert_not_finds(id, [(C, "It went wrong."), (A, text)])


# -- context cases ---------------------------------------------------------------------------


def test_outcome_answer_names_the_question_turn() -> None:
    f = assert_finds(
        "T.outcome_answer",
        convo("When will the parcel come?", "It will be delivered tomorrow by 6pm."),
    )
    assert "turn 0" in f.explanation


def test_outcome_answer_without_question_is_not_emitted() -> None:
    turns = convo("The parcel came damaged.", "It will be delivered tomorrow by 6pm.")
    assert_not_finds("T.outcome_answer", turns)


def test_outcome_question_closes_once_answered() -> None:
    doc = run(
        convo("When will it arrive?", "It will arrive by Friday.", "thanks", "Anything else?")
    )
    assert open_outcome_question(doc, 1) is not None
    assert open_outcome_question(doc, 3) is None


def test_outcome_answer_in_the_second_half_of_a_split_reply() -> None:
    turns = [
        (C, "When will my refund arrive?"),
        (A, "Checking your booking now. 1/2"),
        (A, "It will be back on your card within 5 working days. 2/2"),
    ]
    assert_finds("T.outcome_answer", turns)


def test_follow_up_counts_exploring_replies() -> None:
    turns = convo(
        "My washing machine leaks.",
        "What happens just before it leaks?",
        "It starts when it spins.",
        "Does it leak on every programme, or only the quick wash?",
        "Every programme.",
        "When did you first notice it?",
    )
    assert_not_finds("T.follow_up", turns, turn=1)
    second = assert_finds("T.follow_up", turns, turn=3)
    assert "2nd exploring question before a fix" in second.explanation
    third = assert_finds("T.follow_up", turns, turn=5)
    assert third.explanation.startswith("3rd")


def test_follow_up_notes_a_fix_already_proposed() -> None:
    turns = convo(
        "The app crashes.",
        "What happens right before it crashes?",
        "It freezes first",
        "Could you try reinstalling it and let us know how it goes?",
        "Same thing.",
        "Does it crash on Wi-Fi as well as on mobile data?",
    )
    f = assert_finds("T.follow_up", turns)
    assert "after the fix proposed in turn 3" in f.explanation


def test_follow_up_needs_an_earlier_exploring_reply() -> None:
    turns = convo(
        "It broke.", "What's your order number?", "A-1234", "What happened when you opened the box?"
    )
    assert_finds("T.explore", turns)
    assert_not_finds("T.follow_up", turns)


def test_follow_up_not_within_one_split_reply() -> None:
    turns = [
        (C, "It broke."),
        (A, "Sorry! What happened when you first set it up? 1/2"),
        (A, "And does the light come on at all? 2/2"),
    ]
    assert_not_finds("T.follow_up", turns)


def test_label_names_the_feeling_in_the_explanation() -> None:
    f = assert_finds("T.label", convo("I waited at home all day.", "That must be really annoying."))
    assert "annoyance" in f.explanation


def test_label_also_acknowledges() -> None:
    turns = convo("You lost my parcel.", "I can imagine how stressful that is.")
    assert_finds("T.label", turns)
    assert_finds("T.acknowledge", turns)


def test_label_compares_with_every_earlier_customer_turn() -> None:
    turns = convo(
        "I'm so stressed about this.",
        "Let me check.",
        "Any news?",
        "I understand how stressful this is.",
    )
    assert_finds("T.acknowledge", turns)
    assert_not_finds("T.label", turns)


def test_commit_with_vague_time_is_not_a_commitment() -> None:
    assert_not_finds("T.commit", convo("Update?", "We'll email you as soon as possible."))
    assert_finds("T.commit", convo("Update?", "We'll email you by noon tomorrow."))


def test_commit_time_can_follow_in_the_next_sentence() -> None:
    f = assert_finds(
        "T.commit",
        convo("Bill wrong", "I'll email you the corrected bill. You'll have it within 2 hours."),
    )
    assert "within 2 hours" in f.explanation


def test_warm_handoff_needs_who_and_when_or_ownership() -> None:
    assert_not_finds(
        "T.warm_handoff", convo("Billing?", "I'm transferring you to our billing team.")
    )
    assert_finds(
        "T.warm_handoff",
        convo("Billing?", "I'm transferring you to our billing team and I'll stay on the chat."),
    )


def test_boundary_alternative_in_the_next_sentence() -> None:
    turns = convo(
        "Waive it.", "I'm not able to waive the fee. However, I can split it over three bills."
    )
    assert_finds("T.boundary", turns)


def test_apology_says_whether_it_is_specific() -> None:
    generic = assert_finds(
        "T.apologize", convo("My Kettle 3000 leaks.", "Sorry for the inconvenience.")
    )
    specific = assert_finds(
        "T.apologize", convo("My Kettle 3000 leaks.", "I'm sorry your Kettle 3000 is leaking.")
    )
    assert "generic" in generic.explanation
    assert "specific" in specific.explanation
    assert specific.confidence > generic.confidence


def test_thank_sign_off_is_not_thanks() -> None:
    assert_not_finds("T.thank", convo("Hi", "Please send us a photo of the label. Thanks, Jo"))
    assert_finds("T.thank", convo("Here it is", "Thanks! That helps."))
    assert_finds("T.thank", convo("Here it is", "Thank you."))


# -- T.personal and the case details ---------------------------------------------------------

PERSONAL_POSITIVES: list[Turns] = [
    convo(
        "My Kettle 3000 leaks from the base.",
        "A leak from the base of the Kettle 3000 is usually the seal; I'll send a new one.",
    ),
    convo(
        "Order 55821 never came and I paid $40 for express.",
        "I've refunded the $40 express fee on order 55821.",
    ),
    convo(
        "The 18:10 from Leeds was cancelled again.",
        "The 18:10 from Leeds was cancelled because of a signal fault.",
    ),
    convo(
        "my headphones lost the left channel after the update",
        "The left channel issue after the update is known, and a fix ships this week.",
    ),
    convo(
        "Booked the Harbour View room for Friday.", "Your Harbour View room is ready for Friday."
    ),
    convo(
        "I ordered a blue sofa.",
        "According to our records, your sofa left the warehouse this morning.",
    ),
]
PERSONAL_NEAR_MISSES: list[Turns] = [
    convo(
        "Hi, this is Sam. My parcel is late.",
        "Hi Sam, thanks for reaching out! We're here to help.",
    ),
    convo("My Kettle 3000 leaks.", "Which model do you have?"),
    convo("My router is broken", "We're sorry to hear that. Please DM us."),
    convo("I need help with my account", "Thanks for contacting us, we'd be happy to help."),
    convo("@AcmeHelp my order is late", "Acme is here to help! DM us please."),
    convo("Where's my order?", "Thank you, Jordan. Have a lovely day!"),
    # the customer's words in a general statement that speaks to no one
    convo(
        "Why can't I book a delivery slot for next month?",
        "Delivery slots generally open three weeks ahead for all members.",
    ),
    # durations and step numbers are what every customer is told
    convo("my modem keeps dropping", "Unplug it, then plug it back in after 30 seconds."),
    convo("the app won't sync", "Steps: 1.Open Settings 2.Tap Sync. Replies within 24 hrs."),
    convo("my parcel is late", "We're here 24/7 to help."),
]
PERSONAL_POSITIVES += [
    # what the agent did on this case
    convo(
        "The Elm Street store told me it was in stock.",
        "I've had a look and the store is out of it, but a restock is due.",
    ),
    convo("my son's bag never arrived", "I've spoken to the baggage desk about your son's bag."),
]


@pytest.mark.parametrize("turns", PERSONAL_POSITIVES)
def test_personal_positive(turns: Turns) -> None:
    f = assert_finds("T.personal", turns)
    assert "this customer" in f.explanation or "case" in f.explanation


@pytest.mark.parametrize("turns", PERSONAL_NEAR_MISSES)
def test_personal_near_miss(turns: Turns) -> None:
    assert_not_finds("T.personal", turns)


def _doc(turns: Turns) -> Doc:
    return Doc(conversation(turns))


def test_case_details_are_cached_and_typed() -> None:
    doc = _doc(convo("My iPhone 12 died on Monday at Paddington, I paid $40.", "ok"))
    details = case.case_details(doc)
    assert doc.cache[case.CACHE_KEY] is details
    assert details.kinds["iphon"] == "name"
    assert details.kinds["12"] == "number"
    assert details.kinds["monday"] == "date"
    assert details.kinds["paddington"] == "name"
    assert details.kinds["40"] == "number"
    assert "the" not in details.kinds and "order" not in details.kinds


def test_specifics_used_spans_echo_the_customer() -> None:
    turns = convo(
        "The 08:15 from Paddington had no WiFi.",
        "Sorry the WiFi was down on the 08:15 from Paddington.",
    )
    doc = _doc(turns)
    agent = doc.turns[1]
    spans = case.specifics_used(doc, agent)
    said = [agent.text[s:e] for s, e in spans]
    assert said == ["WiFi", "08:15", "Paddington"]
    assert spans == sorted(spans)
    # cached per turn, same answer
    assert case.specifics_used(doc, agent) == spans
    assert case.specifics_used(doc, doc.turns[0]) == []


def test_specifics_only_from_earlier_customer_turns() -> None:
    doc = _doc(convo("Hello", "Is it the Kettle 3000?", "Yes, the Kettle 3000"))
    assert case.specifics_used(doc, doc.turns[1]) == []


def test_company_handle_and_customer_name_are_not_specifics() -> None:
    doc = _doc(
        convo(
            "@AcmeSupport hi it's Dana, acme broke my toaster",
            "Hi Dana, Acme is sorry about the toaster.",
        )
    )
    said = [doc.turns[1].text[s:e] for s, e in case.specifics_used(doc, doc.turns[1])]
    assert said == ["toaster"]


def test_company_handle_kept_in_metadata_is_not_a_specific() -> None:
    # the TWCS importer moves "@XboxSupport" out of the text into meta["company"]
    turns = convo(
        "My Xbox won't install the update, error 0x8B05",
        "We're official Xbox support and happy to help!",
        "it still fails",
        "Sorry! Is error 0x8B05 still showing on your Xbox?",
    )
    with_company = conversation(turns).model_copy(update={"meta": {"company": "XboxSupport"}})
    doc = Doc(with_company)
    said = [doc.turns[1].text[s:e] for s, e in case.specifics_used(doc, doc.turns[1])]
    assert said == []
    analysed = lexical_pipeline().run(with_company)
    assert not analysed.turns[1].has("T.personal")
    # the case itself still counts: the error code the customer gave
    said = [doc.turns[3].text[s:e] for s, e in case.specifics_used(doc, doc.turns[3])]
    assert said == ["error", "0x8B05"]
    # without the handle, the brand reads as the customer's word
    doc = _doc(turns)
    assert [doc.turns[1].text[s:e] for s, e in case.specifics_used(doc, doc.turns[1])] == ["Xbox"]


def test_particulars_skip_part_markers_and_sign_offs() -> None:
    doc = _doc(convo("hi", "Your refund of 140 points lands on Friday, within 48 hours. 1/2 ^JM"))
    found = [
        (doc.turns[1].text[p.start : p.end], p.kind) for p in case.particulars_in(doc, doc.turns[1])
    ]
    assert found == [("140", "number"), ("Friday", "date")]


def test_particulars_stop_at_text_in_other_scripts() -> None:
    # no spaces between words in Japanese: a number must not run on into the sentence
    doc = _doc(convo("届きません", "フリーダイヤル：0120-999-373へ直接ご連絡ください。"))
    found = [doc.turns[1].text[p.start : p.end] for p in case.particulars_in(doc, doc.turns[1])]
    assert found == ["0120-999-373"]


def test_stem_joins_inflections() -> None:
    assert case.stem("reinstalled") == case.stem("reinstalling") == case.stem("reinstall")
    assert case.stem("tries") == case.stem("tried") == "try"
    assert case.stem("running") == "run"


# -- robustness: bad input gives findings or nothing, never a crash -------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "<script>alert('sorry')</script><b>Thank you</b> for waiting!",
        "\u202eSORRY\u202c \u200b\u200b thanks \U0001f600\U0001f44d",
        "\ud83d",  # a lone surrogate (cleaned by the model)
        "Sorry " * 4000,
        "x" * (MAX_TURN_CHARS + 500),
        "\u0000null\u0000 bytes, sorry",
        "What happens when?" * 500,
        "\u2019\u2019\u201c\u201d'''\"\"\"",
    ],
)
def test_odd_input_never_crashes(text: str) -> None:
    turns = [(C, text), (A, text), (C, "When will it arrive?"), (A, text)]
    doc = run(turns)
    for turn in doc.turns:
        for f in turn.findings:
            s, e = f.span
            assert 0 <= s <= e <= len(turn.text)
            assert turn.text[s:e] == f.text


def test_html_is_treated_as_text() -> None:
    f = assert_finds("T.thank", convo("<p>hi</p>", "<p>Thank you for the <b>photo</b>!</p>"))
    assert f.text.lower().startswith("thank")


def test_curly_apostrophes_are_folded() -> None:
    assert_finds("T.commit", convo("Update?", "I\u2019ll call you back by 5pm today."))
    assert_finds("T.acknowledge", convo("Ugh", "That\u2019s so frustrating, I\u2019m sorry."))


def test_huge_turn_still_finds_early_technique() -> None:
    text = "I'm so sorry about the delay. " + "filler words here " * 2000
    assert_finds("T.apologize", convo("late!", text))


def test_techniques_never_on_customer_turns() -> None:
    doc = run(
        [(C, "I'm sorry, thanks for your patience. What happened? I'll call you by 5pm today.")]
    )
    assert not [f for f in doc.turns[0].findings if f.id.startswith("T.")]


def test_findings_stay_in_their_turn() -> None:
    for f in findings(
        convo("When will it come?", "Sorry! It will arrive by Friday, thanks for waiting.")
    ):
        assert f.turn == 1


# -- real data (skipped where the shared data is absent) -------------------------------------

LABELED = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "labeled" / "tweetsumm_valid.jsonl"
)


@pytest.fixture(scope="module")
def labeled() -> list[dict[str, object]]:
    if not LABELED.exists():
        pytest.skip("labelled data not available")
    return [json.loads(line) for line in LABELED.read_text(encoding="utf-8").splitlines()]


def test_common_techniques_agree_with_annotators(labeled: list[dict[str, object]]) -> None:
    """A floor, not a target: the frequent ids must stay well above chance on real text."""
    from heard.model import Conversation, Turn

    ids = ("T.apologize", "T.thank", "T.explore", "T.ask_commitment", "T.follow_up")
    tp = dict.fromkeys(ids, 0)
    fp = dict.fromkeys(ids, 0)
    fn = dict.fromkeys(ids, 0)
    from heard.testing import lexical_pipeline

    pipe = lexical_pipeline()
    for row in labeled:
        raw_turns = row["turns"]
        assert isinstance(raw_turns, list)
        conv = Conversation(
            id=str(row["id"]), turns=[Turn(speaker=t["speaker"], text=t["text"]) for t in raw_turns]
        )
        doc = pipe.run(conv)
        for t, gold in zip(doc.turns, raw_turns, strict=True):
            if gold["speaker"] != "agent":
                continue
            got = {f.id for f in t.findings}
            for id in ids:
                if id in gold.get("disputed", []):
                    continue
                g, p = id in gold["labels"], id in got
                tp[id] += g and p
                fp[id] += p and not g
                fn[id] += g and not p
    for id in ids:
        f1 = 2 * tp[id] / max(1, 2 * tp[id] + fp[id] + fn[id])
        assert f1 >= 0.7, (id, f1, tp[id], fp[id], fn[id])
