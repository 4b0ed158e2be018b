# ruff: noqa: E501  (data: long template and filler strings stay on one line)
"""Slot fillers for the technique / anti-pattern training data: twelve industries.

Everything here was written for heard (see PROVENANCE.md). Each industry lists the pieces
the templates in ``templates.py`` combine: the customer's complaint with the agent's
restatement of it, what the agent can commit to, limits with an alternative, policies
with the benefit behind them, the customer's own slip (for blame), process narratives and
outcome answers, and so on. Pairs are kept together so a filled template stays coherent.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Industry:
    name: str
    #: (customer complaint, the agent's restatement in the second person, the problem as a noun)
    cases: list[tuple[str, str, str]]
    outcome_questions: list[str]
    howto_questions: list[str]
    #: things the customer tries to do ("pay the bill online")
    tasks: list[str]
    #: what the customer notices ("the error message")
    symptoms: list[str]
    #: what the agent can do, base form ("rebook you on the 18:40 to Leeds")
    actions: list[str]
    #: the same kind of action, already done ("I've rebooked you on ...")
    done: list[str]
    #: a plan B, base form ("ask my supervisor to review the fee")
    plan_b: list[str]
    teams: list[str]
    #: (a limit the agent states, an alternative they can offer, base form)
    limits: list[tuple[str, str]]
    #: (a rule, the benefit clause that explains it)
    policies: list[tuple[str, str]]
    #: (the customer's slip as a clause, what they "should have" done)
    blames: list[tuple[str, str]]
    #: the problem made small ("a two-hour delay")
    minor: list[str]
    #: process narratives: how things work, no estimate and no result
    process: list[str]
    #: outcome answers: an estimate, a range or a result
    outcomes: list[str]
    #: customer actions for "why didn't you ...?"
    didnt: list[str]
    #: customer actions for "why did you ...?"
    did: list[str]
    #: what the conversation should move towards ("getting your bag back to you")
    goals: list[str]
    #: places to send the customer away to (cold hand-offs)
    elsewhere: list[str]
    items: list[str] = field(default_factory=list)


AIRLINE = Industry(
    name="airline",
    cases=[
        (
            "My flight to Lisbon got cancelled and nobody told me until I was at the gate",
            "your Lisbon flight was cancelled and you only found out at the gate",
            "the cancellation",
        ),
        (
            "My suitcase never came off the belt in Manchester",
            "your suitcase didn't arrive in Manchester",
            "the missing suitcase",
        ),
        (
            "I paid for extra legroom and got put in a middle seat at the back",
            "you paid for an extra-legroom seat and were given a middle seat at the back",
            "the seat mix-up",
        ),
        (
            "You charged me 60 euros for a bag that was already included in my fare",
            "you were charged 60 euros at the desk for a bag your fare already covered",
            "the bag charge",
        ),
        (
            "The refund for my cancelled flight in March still hasn't shown up",
            "the refund for the flight cancelled in March hasn't reached you yet",
            "the missing refund",
        ),
        (
            "We were stuck on the plane on the tarmac for three hours with no water",
            "you were kept on the aircraft for three hours without water",
            "the tarmac delay",
        ),
        (
            "My connecting flight left without me even though the first one was your delay",
            "you missed your connection because our first flight was late",
            "the missed connection",
        ),
        (
            "The app checked me in for the wrong date and now I can't board",
            "the app checked you in for the wrong day and you can't board",
            "the check-in error",
        ),
    ],
    outcome_questions=[
        "When will I get my refund?",
        "Will my bag be delivered today?",
        "How long is the delay going to be?",
        "Can you get me on the next flight out?",
        "Is there any way to get compensation for this?",
        "Are you able to put me on the evening flight instead?",
        "When will the bag be sent to my hotel?",
        "Will I be reimbursed for the hotel I had to pay for?",
    ],
    howto_questions=[
        "How do I add a bag to my booking?",
        "Where do I find my booking reference?",
        "How do I change the name on a ticket?",
        "How do I pick a seat in the app?",
    ],
    tasks=[
        "check in online",
        "add the bag in the app",
        "change the flight date",
        "open the boarding pass",
    ],
    symptoms=["the error message", "the bag was missing", "the booking disappeared"],
    actions=[
        "rebook you on the 18:40 flight to Lisbon",
        "raise a priority trace on your bag",
        "refund the seat fee to your card",
        "send the hotel voucher to your email",
        "move you onto the morning flight",
        "reissue your ticket with the correct name",
        "courier the bag to your hotel",
    ],
    done=[
        "rebooked you on tomorrow's 07:15 flight",
        "put a priority trace on your bag",
        "refunded the 60 euro bag charge",
        "sent the meal vouchers to your email",
        "reissued your boarding pass",
    ],
    plan_b=[
        "put you on the standby list for the afternoon flight",
        "book you a hotel near the airport for tonight",
        "ask the duty manager to review the bag charge",
        "escalate this to our customer relations team",
        "rebook you through a partner airline",
    ],
    teams=["baggage team", "customer relations team", "refunds team", "airport operations team"],
    limits=[
        (
            "I can't refund a non-refundable fare",
            "move your flight to any date in the next year for free",
        ),
        (
            "I'm not able to pay cash compensation from here",
            "add 5,000 points to your account today",
        ),
        (
            "I can't move you to business class for free",
            "seat you in an exit row with extra legroom",
        ),
        (
            "we can't hold the plane for a late connection",
            "book you on the next departure and cover a meal",
        ),
        (
            "I can't change the name on this ticket",
            "cancel it for a full credit you can use for another passenger",
        ),
    ],
    policies=[
        (
            "Cabin bags have to fit the sizer at the gate",
            "so there's locker space for every passenger on board",
        ),
        (
            "The name on the ticket has to match your passport",
            "because that's how security matches every passenger to their ID",
        ),
        ("Refunds go back to the card you paid with", "so the money can only ever end up with you"),
        (
            "Check-in closes 45 minutes before departure",
            "so that every bag can be screened and loaded in time",
        ),
        (
            "We ask for receipts before we reimburse a hotel",
            "so claims are handled the same way for every passenger",
        ),
    ],
    blames=[
        (
            "you booked the basic fare, which doesn't include a hold bag",
            "checked what the fare included",
        ),
        ("you arrived after check-in had closed", "got to the airport earlier"),
        ("you didn't add the bag when you booked", "added the bag at the time of booking"),
        (
            "you ignored the email telling you about the schedule change",
            "read the email we sent about the change",
        ),
    ],
    minor=[
        "a two-hour delay",
        "a small seat change",
        "a bag that's a day late",
        "a 40-minute wait",
    ],
    process=[
        "Missing bags are traced by our baggage team, who check every airport on your route.",
        "Refund requests are reviewed by the refunds team and then passed to your bank.",
        "Compensation claims go through a review by customer relations before a decision is made.",
        "Delays are managed by airport operations together with air traffic control.",
    ],
    outcomes=[
        "Your bag is in Frankfurt and will be on the 14:00 flight, so you'll have it at your hotel by tonight.",
        "The refund was approved today and should be back on your card within 5 to 7 working days.",
        "The new departure time is 16:30, so the delay is about two and a half hours.",
        "Yes, I've put you on the 19:10 flight and your seat is 14C.",
    ],
    didnt=[
        "check in online",
        "tell the gate staff at the time",
        "add the bag when you booked",
        "read the schedule change email",
    ],
    did=[
        "book through a third-party website",
        "leave the airport before reporting the bag",
        "skip the connection flight",
    ],
    goals=[
        "getting your bag back to you",
        "getting you home tonight",
        "getting your refund sorted",
        "getting you on a flight today",
    ],
    elsewhere=[
        "the airport lost-property desk",
        "the travel agent you booked with",
        "the airport's own helpline",
    ],
    items=["booking", "flight", "bag", "ticket"],
)

TELECOM = Industry(
    name="telecom",
    cases=[
        (
            "My internet has dropped out every evening for two weeks",
            "your broadband keeps cutting out every evening and it's been two weeks",
            "the evening drop-outs",
        ),
        (
            "The engineer was supposed to come on Tuesday and never showed up",
            "the engineer booked for Tuesday didn't turn up",
            "the missed engineer visit",
        ),
        (
            "You've billed me for a phone I sent back a month ago",
            "you're still being billed for a handset you returned a month ago",
            "the handset charge",
        ),
        (
            "I was promised a loyalty discount and my bill went up instead",
            "you were told you'd get a loyalty discount and your bill went up",
            "the price rise",
        ),
        (
            "I moved house and my line still hasn't been switched over",
            "your line still hasn't been moved to your new address",
            "the house move",
        ),
        (
            "I have no signal at home at all since the mast work",
            "you've had no signal at home since the mast work",
            "the signal loss",
        ),
        (
            "I got roaming charges even though I had the travel add-on",
            "you were charged for roaming while you had the travel add-on",
            "the roaming charges",
        ),
    ],
    outcome_questions=[
        "When will my internet be fixed?",
        "How long until the engineer can come?",
        "Will I get a refund for the days without service?",
        "Can you take the handset charge off my bill?",
        "Is there any way to get the discount back?",
        "When is the outage going to be over?",
    ],
    howto_questions=[
        "How do I set up the new router?",
        "How do I check my data usage?",
        "Where do I find my PUK code?",
        "How do I port my number?",
    ],
    tasks=["connect to the wifi", "log in to your account", "restart the router", "make a call"],
    symptoms=["the drop-outs", "the red light on the router", "the slow speeds"],
    actions=[
        "book an engineer for Thursday morning",
        "take the handset charge off your next bill",
        "apply the loyalty discount to your account",
        "send you a replacement router by next-day delivery",
        "run a full line test",
        "credit your account for the days without service",
    ],
    done=[
        "booked an engineer for Thursday between 8 and 12",
        "removed the handset charge",
        "applied the loyalty discount",
        "ordered a replacement router",
        "credited 15 pounds for the days you were offline",
    ],
    plan_b=[
        "escalate this to our network engineers",
        "book a technician visit instead",
        "send you a mobile broadband dongle to use in the meantime",
        "ask my team leader to review the bill",
        "open a formal complaint so it's tracked",
    ],
    teams=["network team", "billing team", "engineering team", "retentions team"],
    limits=[
        (
            "I can't see the engineer's diary from here",
            "put a note on the visit and text you the slot",
        ),
        (
            "I can't cancel the contract without the exit fee",
            "move you to a cheaper plan with no fee",
        ),
        ("I'm not able to change the price on your tariff", "add 20GB of extra data for free"),
        ("I can't speed up the outage repair", "send you a dongle so you're online tonight"),
        (
            "we can't refund calls to premium numbers",
            "put a bar on those numbers so it can't happen again",
        ),
    ],
    policies=[
        (
            "We need to do a line test before we send an engineer",
            "so the engineer arrives with the right parts and fixes it in one visit",
        ),
        (
            "We verify your identity before we make changes to the account",
            "so nobody else can change your plan or move your number",
        ),
        (
            "Price changes are applied to every plan in April",
            "so that everyone on the same plan pays the same",
        ),
        (
            "We cap international calls at a daily limit",
            "to protect you from a huge bill if your phone is stolen",
        ),
    ],
    blames=[
        ("you unplugged the router during the update", "left the router on during the update"),
        (
            "you didn't return the old handset within the 14 days",
            "sent the handset back within 14 days",
        ),
        (
            "the add-on lapsed because you didn't renew it",
            "renewed the add-on before you travelled",
        ),
        ("you entered the wrong wifi password", "checked the password on the back of the router"),
    ],
    minor=["a short outage", "a few pounds on the bill", "slow internet for a couple of nights"],
    process=[
        "Outages are handled by our network team, who work through the faults in order.",
        "Billing disputes are reviewed by the billing team before any credit is applied.",
        "Engineer visits are scheduled by our field team based on availability in your area.",
        "Your case has been logged and passed to the network team for investigation.",
    ],
    outcomes=[
        "The repair is booked for tomorrow morning, and your service should be back by 1pm.",
        "Yes, I've removed the charge and you'll see 30 pounds back on your next bill.",
        "The outage should be fixed by 6pm this evening.",
        "The engineer is booked for Friday between 8am and 1pm.",
    ],
    didnt=[
        "restart the router first",
        "return the handset on time",
        "renew the add-on",
        "report the fault sooner",
    ],
    did=[
        "unplug the router during the update",
        "buy the phone from another seller",
        "cancel the direct debit",
    ],
    goals=[
        "getting your internet working again",
        "putting the bill right",
        "getting your signal back",
        "getting the move sorted",
    ],
    elsewhere=["the phone manufacturer", "the shop you bought it from", "Openreach directly"],
    items=["line", "contract", "router", "bill"],
)

BANK = Industry(
    name="bank",
    cases=[
        (
            "A payment I never made has come out of my account",
            "there's a payment on your account that you didn't make",
            "the unknown payment",
        ),
        (
            "My card got blocked while I was abroad and I couldn't pay for anything",
            "your card was blocked while you were abroad and you couldn't pay",
            "the blocked card",
        ),
        (
            "I transferred my rent and it still hasn't reached my landlord",
            "your rent transfer hasn't reached your landlord",
            "the missing transfer",
        ),
        (
            "You charged me an overdraft fee when I was only 2 pounds over",
            "you were charged an overdraft fee for going 2 pounds over",
            "the overdraft fee",
        ),
        (
            "The app keeps logging me out and I can't see my balance",
            "the app keeps logging you out before you can see your balance",
            "the app log-outs",
        ),
        (
            "My mortgage application has been sitting there for six weeks",
            "your mortgage application has had no decision for six weeks",
            "the mortgage delay",
        ),
        (
            "My new card never arrived and the old one has expired",
            "your replacement card hasn't arrived and the old one has expired",
            "the missing card",
        ),
    ],
    outcome_questions=[
        "When will I get my money back?",
        "How long does the fraud investigation take?",
        "Can you unblock my card right now?",
        "Will the fee be refunded?",
        "When will my landlord get the money?",
        "Is there any way to speed up the mortgage decision?",
    ],
    howto_questions=[
        "How do I set up a standing order?",
        "How do I change my PIN?",
        "Where do I find my sort code in the app?",
        "How do I add someone to my account?",
    ],
    tasks=["log in to the app", "make the transfer", "pay with your card", "reset your passcode"],
    symptoms=["the payment", "the log-outs", "the error code"],
    actions=[
        "refund the overdraft fee",
        "unblock your card",
        "order a replacement card by express delivery",
        "trace the transfer with the receiving bank",
        "raise a fraud claim for the payment",
        "put a temporary credit on your account",
    ],
    done=[
        "refunded the overdraft fee",
        "unblocked your card",
        "ordered a new card by express delivery",
        "raised a trace on the transfer",
        "put the disputed amount back as a temporary credit",
    ],
    plan_b=[
        "ask the fraud team to call you directly",
        "escalate the application to a senior underwriter",
        "arrange a callback from a branch manager",
        "set up emergency cash at a branch near you",
        "raise a formal complaint on your behalf",
    ],
    teams=["fraud team", "mortgage team", "payments team", "complaints team"],
    limits=[
        (
            "I can't reverse a transfer you authorised",
            "trace it and ask the receiving bank to return it",
        ),
        ("I'm not able to remove the fee entirely", "refund half of it as a one-off"),
        (
            "I can't tell you the outcome of the fraud check yet",
            "put the money back as a temporary credit while it runs",
        ),
        (
            "I can't raise your overdraft limit today",
            "set up an alert so you know before you go over",
        ),
        (
            "we can't issue a card to a different address",
            "send it to your nearest branch for collection",
        ),
    ],
    policies=[
        (
            "We block cards when we see payments from a new country",
            "so a thief can't empty your account before you notice",
        ),
        (
            "We ask security questions on every call",
            "so nobody can pretend to be you and move your money",
        ),
        (
            "Large transfers are held for a check",
            "to stop scammers getting your money before you can react",
        ),
        (
            "Cards are only sent to the address on the account",
            "so they can't be picked up by someone else",
        ),
    ],
    blames=[
        ("you shared the code with the caller", "kept the code to yourself"),
        ("you typed the wrong account number", "double-checked the account number"),
        ("you didn't tell us you were travelling", "let us know about the trip"),
        (
            "the payment went out because you set up the standing order",
            "cancelled the standing order",
        ),
    ],
    minor=["a small fee", "a two-day wait", "a temporary block", "a couple of pounds"],
    process=[
        "Fraud claims are investigated by our fraud team, who contact the merchant and review the payment.",
        "Transfers go through a series of checks with the receiving bank.",
        "Mortgage applications go to underwriting, who review the documents in the order they arrive.",
        "Your dispute has been logged and is with the payments team.",
    ],
    outcomes=[
        "The money will be back in your account by the end of tomorrow.",
        "Yes, your card is unblocked now and you can use it straight away.",
        "The fraud team will have a decision for you within 10 working days.",
        "The fee has been refunded and you'll see it in your balance within two hours.",
    ],
    didnt=[
        "report the card lost straight away",
        "tell us you were going abroad",
        "check the account number",
        "call us when it happened",
    ],
    did=[
        "give your PIN to the caller",
        "share the code from the text",
        "send money to someone you'd never met",
    ],
    goals=[
        "getting your money back",
        "getting your card working again",
        "finding the transfer",
        "dealing with the fee",
    ],
    elsewhere=["the merchant", "the receiving bank", "your local branch"],
    items=["account", "card", "transfer", "payment"],
)

ECOMMERCE = Industry(
    name="e-commerce",
    cases=[
        (
            "My order says delivered but there's nothing at my door",
            "your order shows as delivered but nothing arrived",
            "the missing parcel",
        ),
        (
            "I got the wrong size and the return label doesn't work",
            "you were sent the wrong size and the return label won't scan",
            "the wrong size",
        ),
        (
            "The blender arrived with a cracked jug",
            "your blender came with a cracked jug",
            "the damaged blender",
        ),
        (
            "I sent the jacket back three weeks ago and still no refund",
            "you returned the jacket three weeks ago and the refund hasn't come",
            "the return refund",
        ),
        (
            "You took the money twice for one order",
            "you were charged twice for the same order",
            "the double charge",
        ),
        (
            "Half my order is missing and the app says it's complete",
            "part of your order is missing even though it shows as complete",
            "the missing items",
        ),
        (
            "The sofa delivery was rescheduled three times",
            "your sofa delivery has been moved three times",
            "the delivery changes",
        ),
    ],
    outcome_questions=[
        "When will my refund come through?",
        "Can you send a replacement?",
        "Will I get the second charge back?",
        "When is my parcel actually going to arrive?",
        "Is there any way to get it before Saturday?",
        "Are you able to refund the delivery fee?",
    ],
    howto_questions=[
        "How do I start a return?",
        "How do I change my delivery address?",
        "Where can I see my order history?",
        "How do I use a gift card at checkout?",
    ],
    tasks=[
        "print the return label",
        "track the parcel",
        "apply the discount code",
        "pay at checkout",
    ],
    symptoms=["the damage", "the tracking update", "the second charge"],
    actions=[
        "send a replacement by next-day delivery",
        "refund the second charge",
        "open an investigation with the courier",
        "email you a new return label",
        "book a collection from your address",
        "refund the delivery fee",
    ],
    done=[
        "sent a replacement by next-day delivery",
        "refunded the duplicate payment",
        "opened a claim with the courier",
        "emailed you a fresh return label",
        "booked a collection for Monday",
    ],
    plan_b=[
        "send a replacement instead of waiting for the courier",
        "ask the warehouse manager to check the stock",
        "escalate this to our delivery partner's claims team",
        "arrange a collection from a drop-off point near you",
        "offer a full refund if the replacement doesn't arrive in time",
    ],
    teams=["returns team", "delivery team", "warehouse team", "payments team"],
    limits=[
        (
            "I can't refund until the courier confirms the parcel is lost",
            "send you a replacement now",
        ),
        (
            "I'm not able to guarantee a Saturday delivery",
            "upgrade you to next-day delivery for free",
        ),
        (
            "we can't accept returns after 60 days",
            "put you in touch with the manufacturer's warranty team and send their form",
        ),
        (
            "I can't change the address once it has shipped",
            "ask the courier to hold it at a pickup point near you",
        ),
    ],
    policies=[
        (
            "We ask for a photo of the damage",
            "so we can claim it back from the courier and stop it happening again",
        ),
        (
            "We wait for the return to reach the warehouse before refunding",
            "so refunds are only paid out for items that came back",
        ),
        (
            "We only ship to the billing address for new accounts",
            "to stop stolen cards being used to order goods",
        ),
        (
            "Deliveries need a signature over 200 pounds",
            "so an expensive parcel can't be left on the doorstep",
        ),
    ],
    blames=[
        ("you entered an old address at checkout", "checked the address at checkout"),
        ("you chose the wrong size from the chart", "used the size guide"),
        ("you didn't include the returns form", "put the returns form in the box"),
        ("you selected standard delivery", "picked express delivery"),
    ],
    minor=["a late parcel", "a small scratch", "a few days' wait", "one missing item"],
    process=[
        "Missing parcels are investigated with the courier, who checks the GPS data for the drop.",
        "Returns are checked by the warehouse team before a refund is released.",
        "Duplicate payments are reviewed by our payments team.",
        "Your request has been passed to the delivery team, who will look into it.",
    ],
    outcomes=[
        "Your replacement is booked for delivery tomorrow before 1pm.",
        "The refund was issued today and should show on your card within 3 to 5 working days.",
        "Yes, the second charge has been reversed.",
        "The parcel is out for delivery and will reach you by 6pm today.",
    ],
    didnt=[
        "check the address before ordering",
        "keep the original packaging",
        "include the returns form",
        "track the parcel",
    ],
    did=[
        "throw away the box",
        "pick the cheapest delivery option",
        "order from the marketplace seller",
    ],
    goals=[
        "getting your order to you",
        "getting the refund through",
        "getting a working replacement to you",
        "sorting out the charge",
    ],
    elsewhere=["the courier directly", "the marketplace seller", "the manufacturer"],
    items=["order", "parcel", "return", "refund"],
)

SAAS = Industry(
    name="SaaS",
    cases=[
        (
            "Our dashboard has been down since this morning and my team can't work",
            "the dashboard has been down since this morning and your team is blocked",
            "the outage",
        ),
        (
            "I cancelled last month and you charged me for another year",
            "you cancelled last month and were charged for a new annual term",
            "the renewal charge",
        ),
        (
            "The export keeps failing halfway through",
            "the export fails partway every time",
            "the failing export",
        ),
        (
            "After the update all our saved reports are gone",
            "your saved reports disappeared after the update",
            "the lost reports",
        ),
        (
            "Single sign-on stopped working for the whole company",
            "single sign-on is failing for everyone at your company",
            "the sign-on failure",
        ),
        (
            "The integration is sending every invoice twice",
            "the integration is duplicating every invoice",
            "the duplicate invoices",
        ),
    ],
    outcome_questions=[
        "When will the dashboard be back up?",
        "Can you refund the renewal?",
        "Will we get our reports back?",
        "How long until SSO is fixed?",
        "Is there any way to get a credit for the downtime?",
    ],
    howto_questions=[
        "How do I add a new user?",
        "How do I export to CSV?",
        "Where do I change the billing contact?",
        "How do I connect the API?",
    ],
    tasks=["run the export", "sign in with SSO", "open the report", "sync the integration"],
    symptoms=["the error", "the missing reports", "the timeout"],
    actions=[
        "restore your reports from last night's backup",
        "refund the renewal in full",
        "raise this with our on-call engineer",
        "apply a service credit to your next invoice",
        "turn off the duplicate sync on our side",
    ],
    done=[
        "restored your reports from the backup",
        "refunded the renewal",
        "paused the duplicate sync",
        "added a service credit to your account",
    ],
    plan_b=[
        "escalate this to the engineering team as a priority incident",
        "set up a call with one of our solutions engineers",
        "give you temporary access to the backup environment",
        "ask our account manager to review the renewal",
    ],
    teams=["engineering team", "billing team", "solutions team", "security team"],
    limits=[
        (
            "I can't roll back the update for just one account",
            "restore your reports from before the update",
        ),
        (
            "I'm not able to refund a renewal after 30 days",
            "pro-rate it and refund the unused months",
        ),
        ("I can't give you access to the raw logs", "send you a summary of the errors we see"),
        (
            "we can't turn SSO off for you remotely",
            "walk your admin through the fallback login now",
        ),
    ],
    policies=[
        (
            "We require an admin to approve new integrations",
            "so nobody can connect an app that reads your data without your company knowing",
        ),
        ("Passwords have to be changed every 90 days", "to keep accounts safe if a password leaks"),
        (
            "Exports are limited to 50,000 rows at a time",
            "so one big export can't slow the service down for everyone else",
        ),
        (
            "We only discuss account changes with the account owner",
            "so your data stays under your company's control",
        ),
    ],
    blames=[
        ("your admin deleted the reports", "checked with your admin before the clean-up"),
        ("you let the card on file expire", "updated the card before renewal"),
        ("you didn't read the release notes", "read the release notes"),
        ("you skipped the setup guide", "followed the setup guide"),
    ],
    minor=["a short outage", "a small bug", "one failed export"],
    process=[
        "Incidents are triaged by engineering and worked on by priority.",
        "Refund requests go to the billing team for approval.",
        "Bugs are logged in our tracker and reviewed by the product team.",
        "Your ticket has been escalated to engineering.",
    ],
    outcomes=[
        "The fix is deploying now and the dashboard will be back within the hour.",
        "Yes, the renewal is refunded and you'll see it in 5 to 10 business days.",
        "Your reports are restored and you can see them now.",
        "SSO will be working again by 3pm UTC today.",
    ],
    didnt=[
        "read the release notes",
        "update the card on file",
        "test it in the sandbox first",
        "contact support sooner",
    ],
    did=["delete the old workspace", "turn off two-factor", "share the admin password"],
    goals=[
        "getting your team working again",
        "getting your reports back",
        "fixing the billing",
        "getting the sync running properly",
    ],
    elsewhere=["your IT department", "the integration's vendor", "our community forum"],
    items=["workspace", "account", "subscription", "report"],
)

UTILITIES = Industry(
    name="utilities",
    cases=[
        (
            "My energy bill doubled this month and I haven't used more",
            "your energy bill doubled this month with no change in what you used",
            "the high bill",
        ),
        (
            "The smart meter stopped sending readings in June",
            "your smart meter hasn't sent a reading since June",
            "the meter readings",
        ),
        (
            "We've had no hot water for four days because the boiler repair keeps getting cancelled",
            "you've been without hot water for four days because the repair keeps being cancelled",
            "the boiler repair",
        ),
        (
            "You took a direct debit I cancelled",
            "a direct debit you had cancelled was still taken",
            "the direct debit",
        ),
        (
            "The water supply has been off since 7am with no warning",
            "your water has been off since 7am and nobody warned you",
            "the water cut",
        ),
        (
            "I'm in credit by 300 pounds and you won't give it back",
            "your account is 300 pounds in credit and it hasn't been refunded",
            "the credit balance",
        ),
    ],
    outcome_questions=[
        "When will the water be back on?",
        "Can you refund my credit?",
        "Will the bill be corrected?",
        "How long until someone fixes the boiler?",
        "Are you able to lower my direct debit?",
    ],
    howto_questions=[
        "How do I submit a meter reading?",
        "How do I change my tariff?",
        "Where do I find my account number?",
    ],
    tasks=["submit a reading", "log in to the account", "pay the bill", "check the meter display"],
    symptoms=["the jump in the bill", "the blank meter display", "the low pressure"],
    actions=[
        "refund your credit balance",
        "re-bill the account using your actual readings",
        "book a boiler engineer for tomorrow",
        "send a meter technician",
        "lower your direct debit to the right amount",
    ],
    done=[
        "refunded your 300 pound credit",
        "corrected the bill using your readings",
        "booked the boiler engineer",
        "cancelled the direct debit properly",
    ],
    plan_b=[
        "send bottled water to your address today",
        "book a temporary heater while you wait",
        "ask a supervisor to put the bill on hold",
        "escalate the repair to our emergency team",
    ],
    teams=["metering team", "billing team", "repairs team", "emergency team"],
    limits=[
        ("I can't wipe the bill", "spread the balance over twelve months with no interest"),
        ("I can't get the water back on any faster", "send bottled water to you this afternoon"),
        (
            "I'm not able to refund the whole credit while the bill is disputed",
            "refund everything above the disputed amount now",
        ),
        (
            "we can't switch the tariff mid-contract",
            "put you on the cheaper one the day the contract ends",
        ),
    ],
    policies=[
        (
            "We keep a small credit on the account over winter",
            "so your direct debit doesn't jump when you use more heating",
        ),
        (
            "We need a photo of the meter before we change a bill",
            "so bills are based on real readings, not guesses",
        ),
        ("Engineers must isolate the supply before a repair", "to keep them and your home safe"),
        (
            "We give priority to customers who depend on medical equipment",
            "so that nobody's health is put at risk during an outage",
        ),
    ],
    blames=[
        ("you haven't sent a reading in six months", "sent readings every month"),
        (
            "you cancelled the direct debit with your bank, not with us",
            "told us about the cancellation",
        ),
        ("you missed the engineer's appointment", "been in for the appointment"),
    ],
    minor=["a few hours without water", "a higher bill this one month", "a small credit"],
    process=[
        "Billing queries are reviewed by the billing team using your meter history.",
        "Supply faults are reported to our network crews, who prioritise by the number of homes affected.",
        "Credit refunds go through an account check first.",
        "Your complaint has been logged with our repairs team.",
    ],
    outcomes=[
        "The supply will be back on by 3pm.",
        "Your credit of 300 pounds will be in your bank account within three working days.",
        "Yes, I've corrected the bill and the new amount is 84 pounds.",
        "The boiler engineer will be with you tomorrow between 8am and noon.",
    ],
    didnt=[
        "send a meter reading",
        "tell us you'd moved",
        "call us when the meter stopped",
        "keep the appointment",
    ],
    did=[
        "cancel the direct debit with your bank",
        "let the tenant take the readings",
        "switch the meter off",
    ],
    goals=[
        "getting your hot water back",
        "correcting your bill",
        "getting the credit back to you",
        "getting the meter sending readings again",
    ],
    elsewhere=["the network operator", "your landlord", "the boiler manufacturer"],
    items=["bill", "meter", "account", "direct debit"],
)

INSURANCE = Industry(
    name="insurance",
    cases=[
        (
            "My claim for the burst pipe has been open for two months",
            "your burst pipe claim has been open for two months",
            "the claim delay",
        ),
        (
            "My premium went up 40 percent and I haven't claimed anything",
            "your premium rose 40 percent without a claim",
            "the premium rise",
        ),
        (
            "You rejected my travel claim because of a form I never got",
            "your travel claim was turned down over a form you never received",
            "the rejected claim",
        ),
        (
            "The hire car you promised after the accident never appeared",
            "the courtesy car you were promised after the accident didn't arrive",
            "the missing courtesy car",
        ),
        (
            "The loss adjuster cancelled the visit twice",
            "the loss adjuster's visit has been cancelled twice",
            "the cancelled visits",
        ),
    ],
    outcome_questions=[
        "When will my claim be paid?",
        "Can you reduce my premium?",
        "Will you reconsider the claim?",
        "When will I get a courtesy car?",
        "How long does the appeal take?",
    ],
    howto_questions=[
        "How do I add a driver to my policy?",
        "How do I download my policy documents?",
        "How do I make a claim online?",
    ],
    tasks=["upload the photos", "fill in the claim form", "log in to the portal"],
    symptoms=["the rejection letter", "the new premium", "the upload error"],
    actions=[
        "book a new loss adjuster visit",
        "arrange a courtesy car for you",
        "send the claim back for review",
        "pay the undisputed part of the claim",
        "recalculate the premium",
    ],
    done=[
        "booked the loss adjuster",
        "arranged a courtesy car",
        "sent the claim for a second review",
        "paid the undisputed part of your claim",
    ],
    plan_b=[
        "refer the claim to a senior claims handler",
        "open a formal appeal",
        "ask underwriting to look at the premium again",
        "arrange emergency accommodation through your policy",
    ],
    teams=["claims team", "underwriting team", "motor claims team", "complaints team"],
    limits=[
        ("I can't overturn the decision myself", "send it to a senior handler for a second look"),
        (
            "I can't lower the premium on this policy",
            "check whether a higher excess would bring it down",
        ),
        (
            "I'm not able to pay the claim before the adjuster visits",
            "pay for emergency repairs now",
        ),
    ],
    policies=[
        (
            "We send a loss adjuster for claims over 5,000 pounds",
            "so large claims are valued fairly and paid in full",
        ),
        (
            "We ask for receipts for anything you claim",
            "to keep premiums down for everyone by stopping false claims",
        ),
        ("Premiums are based on claims in your area", "so the price reflects the real risk"),
    ],
    blames=[
        ("you didn't declare the previous claim", "declared it when you took out the policy"),
        ("the policy had lapsed because you missed a payment", "kept up the payments"),
        ("you didn't send the police report", "sent the police report with the claim"),
    ],
    minor=["a small price rise", "a few weeks' wait", "a slow claim"],
    process=[
        "Claims are assessed by a handler and then checked by the team leader.",
        "Appeals go to an independent reviewer within the claims department.",
        "Premiums are set by underwriting using our pricing model.",
        "Your claim is with the claims team and is being processed.",
    ],
    outcomes=[
        "Your claim has been approved and the payment of 2,300 pounds will reach you on Friday.",
        "The appeal will have a decision within 14 days.",
        "Yes, the courtesy car will be delivered to you tomorrow morning.",
    ],
    didnt=[
        "declare the previous claim",
        "send the photos straight away",
        "report it to the police",
        "read the policy wording",
    ],
    did=[
        "start the repairs before we'd seen the damage",
        "let the policy lapse",
        "throw away the damaged items",
    ],
    goals=[
        "getting the claim paid",
        "finding you a car this week",
        "getting the decision looked at again",
    ],
    elsewhere=["the other driver's insurer", "your broker", "the ombudsman"],
    items=["claim", "policy", "premium"],
)

HEALTHCARE = Industry(
    name="healthcare",
    cases=[
        (
            "I've been trying to get an appointment for three weeks and the line is always busy",
            "you've been trying to book an appointment for three weeks and can't get through",
            "the booking trouble",
        ),
        (
            "My prescription wasn't sent to the pharmacy again",
            "your prescription didn't reach the pharmacy again",
            "the prescription",
        ),
        (
            "I got a bill for a scan my insurance should have covered",
            "you were billed for a scan that your insurance should cover",
            "the scan bill",
        ),
        (
            "My test results were supposed to be back a week ago",
            "your test results were due a week ago and you haven't heard",
            "the late results",
        ),
        (
            "The clinic cancelled my mum's appointment on the morning of it",
            "your mum's appointment was cancelled the same morning",
            "the cancelled appointment",
        ),
    ],
    outcome_questions=[
        "When will my results be ready?",
        "Can you get me an appointment this week?",
        "Will the bill be cancelled?",
        "When will the prescription be at the pharmacy?",
    ],
    howto_questions=[
        "How do I register with the practice?",
        "How do I order a repeat prescription online?",
        "Where do I see my test results?",
    ],
    tasks=["book online", "order the repeat prescription", "log in to the patient portal"],
    symptoms=["the error on the portal", "the missing prescription", "the bill"],
    actions=[
        "send the prescription to your pharmacy",
        "book you in with the nurse",
        "chase the lab for your results",
        "put the bill on hold while we check your cover",
    ],
    done=[
        "sent the prescription to your pharmacy",
        "booked you in with Dr Shah",
        "put the bill on hold",
        "chased the lab",
    ],
    plan_b=[
        "put you on the cancellation list",
        "book a phone consultation instead",
        "ask the practice manager to call you",
        "arrange for the results to be sent to your GP",
    ],
    teams=["appointments team", "billing office", "pharmacy team", "patient services team"],
    limits=[
        (
            "I can't give you results over the phone",
            "book a call with the doctor for this afternoon",
        ),
        ("I'm not able to book you in today", "put you at the top of the cancellation list"),
        (
            "I can't remove the charge myself",
            "put the bill on hold while billing checks your cover",
        ),
    ],
    policies=[
        (
            "Only a clinician can share test results",
            "so you have someone to explain what they mean",
        ),
        (
            "We confirm your date of birth on every call",
            "to make sure we never discuss your health with the wrong person",
        ),
        ("Repeat prescriptions need 48 hours", "so the doctor has time to check every one safely"),
    ],
    blames=[
        ("you didn't order the repeat in time", "ordered it two days earlier"),
        ("you gave us an old insurance number", "checked the number on the card"),
        ("you missed the last appointment", "let us know you couldn't make it"),
    ],
    minor=["a short wait for results", "a small bill", "one cancelled appointment"],
    process=[
        "Results are checked by a doctor before they're released.",
        "Billing queries go through the billing office and your insurer.",
        "Prescriptions are reviewed by the duty doctor and then sent on.",
    ],
    outcomes=[
        "Your results are in and the doctor will call you at 4pm today.",
        "I've booked you for Thursday at 10:20 with the nurse.",
        "The prescription will be ready at the pharmacy after 2pm.",
    ],
    didnt=["order the prescription in time", "cancel the appointment", "bring your insurance card"],
    did=["book at the wrong clinic", "skip the follow-up"],
    goals=["getting you seen this week", "getting your results to you", "sorting out the bill"],
    elsewhere=["your insurer", "the hospital directly", "the pharmacy"],
    items=["appointment", "prescription", "results"],
)

HOTEL = Industry(
    name="hotel",
    cases=[
        (
            "We arrived at midnight and our room had been given away",
            "you arrived at midnight and your room had been given to someone else",
            "the lost room",
        ),
        (
            "The room was dirty and the air conditioning didn't work",
            "your room wasn't clean and the air conditioning was broken",
            "the room problems",
        ),
        (
            "You charged my card a deposit I never agreed to",
            "a deposit was taken from your card that you didn't agree to",
            "the deposit",
        ),
        (
            "The pool was closed the whole week and nobody mentioned it when we booked",
            "the pool was closed for your whole stay and it wasn't mentioned at booking",
            "the closed pool",
        ),
        (
            "Building work started at 7am every morning of our stay",
            "building work woke you at 7am every morning",
            "the building noise",
        ),
    ],
    outcome_questions=[
        "When will the deposit be released?",
        "Can we get a refund for the nights we had no air con?",
        "Will you move us to another room?",
        "Is there any way to get the pool fee back?",
    ],
    howto_questions=[
        "How do I add breakfast to my booking?",
        "How do I request a late checkout?",
        "Where is the parking?",
    ],
    tasks=["check in", "book the spa", "connect to the hotel wifi"],
    symptoms=["the noise", "the charge", "the broken air conditioning"],
    actions=[
        "move you to a quieter room on the top floor",
        "release the deposit today",
        "refund the first night",
        "send housekeeping up right away",
    ],
    done=[
        "moved you to room 412",
        "released the deposit",
        "refunded the first night",
        "added free breakfast to your stay",
    ],
    plan_b=[
        "book you into our sister hotel across the road",
        "ask the duty manager to come and speak with you",
        "arrange a late checkout at no charge",
        "move you to a suite for the rest of the stay",
    ],
    teams=["front desk", "reservations team", "guest relations team", "housekeeping team"],
    limits=[
        ("I can't refund the whole stay", "refund the two nights the air conditioning was broken"),
        (
            "we're fully booked tonight, so I can't change your room",
            "move you first thing tomorrow and add breakfast",
        ),
        ("I can't remove the deposit rule", "release it the moment you check out"),
    ],
    policies=[
        (
            "We take a deposit at check-in",
            "so we can release the room to you without asking for payment at every step",
        ),
        (
            "Rooms are held until 6pm unless you tell us you'll be late",
            "so rooms aren't left empty when other guests need them",
        ),
        ("We ask every guest for ID at check-in", "so nobody can walk in and claim your room"),
    ],
    blames=[
        ("you didn't tell us you'd arrive after 6pm", "let us know you'd be late"),
        ("you booked a non-refundable rate", "chosen the flexible rate"),
        ("you didn't read the notice about the pool", "read the booking notes"),
    ],
    minor=["a bit of noise", "one night without air con", "a small deposit"],
    process=[
        "Deposits are released by our accounts team after checkout.",
        "Refund requests are reviewed by the hotel manager.",
        "Complaints are passed to guest relations, who look into them.",
    ],
    outcomes=[
        "The deposit has been released and will show on your card within 3 days.",
        "Yes, we'll move you to a sea-view room at 2pm today.",
        "I've refunded one night, 140 euros, and it will reach your card this week.",
    ],
    didnt=["tell us you'd be arriving late", "read the booking notes", "ask at reception"],
    did=["book through a third-party site", "choose the non-refundable rate"],
    goals=[
        "getting you a good night's sleep",
        "making the rest of your stay right",
        "getting the deposit back to you",
    ],
    elsewhere=["the booking site you used", "the tour operator", "the property owner"],
    items=["booking", "room", "stay"],
)

FOOD = Industry(
    name="food delivery",
    cases=[
        (
            "My food arrived an hour late and stone cold",
            "your food came an hour late and it was cold",
            "the late order",
        ),
        (
            "The driver marked it delivered but I never got anything",
            "the driver marked the order delivered and nothing arrived",
            "the missing order",
        ),
        (
            "Half the items were missing from my order",
            "several items were missing from your order",
            "the missing items",
        ),
        (
            "I told you I have a nut allergy and the curry had cashews in it",
            "the curry had cashews even though you'd flagged a nut allergy",
            "the allergy mistake",
        ),
        (
            "You charged me the full price even though I used a voucher",
            "your voucher wasn't applied and you paid full price",
            "the voucher",
        ),
    ],
    outcome_questions=[
        "Can I get a refund?",
        "When will the refund show up?",
        "Will you send the missing items?",
        "Can you get my voucher applied?",
    ],
    howto_questions=[
        "How do I add a tip?",
        "How do I change my delivery address?",
        "How do I use my voucher?",
    ],
    tasks=["apply the voucher", "track the driver", "place the order"],
    symptoms=["the missing items", "the wrong order", "the late driver"],
    actions=[
        "refund the missing items",
        "refund the whole order",
        "send the order again at no charge",
        "add a voucher for your next order",
    ],
    done=[
        "refunded the whole order",
        "added a 10 pound voucher to your account",
        "refunded the two missing dishes",
        "flagged the allergy mistake with the restaurant",
    ],
    plan_b=[
        "send the order again from a nearer restaurant",
        "escalate the allergy report to our food safety team",
        "ask the restaurant manager to call you",
    ],
    teams=["food safety team", "restaurant partnerships team", "refunds team"],
    limits=[
        ("I can't refund the tip from here", "refund the delivery fee and the food"),
        (
            "we can't resend tonight because the kitchen has closed",
            "refund the order and add credit for tomorrow",
        ),
        (
            "I'm not able to refund to cash",
            "put it back on your card or as account credit right now",
        ),
    ],
    policies=[
        (
            "We ask for a photo of the order",
            "so we can show the restaurant exactly what went wrong and fix it",
        ),
        (
            "Allergy reports go to the food safety team first",
            "so the restaurant is checked before anyone else is served",
        ),
    ],
    blames=[
        ("you put the wrong flat number on the order", "checked the address"),
        ("the voucher had expired", "used the voucher before it expired"),
    ],
    minor=["a late dinner", "one missing drink", "a cold pizza"],
    process=[
        "Refunds are reviewed by our support team using the driver's delivery data.",
        "Missing item reports are checked with the restaurant first.",
    ],
    outcomes=[
        "Yes, I've refunded 23.50 to your card and it will show within 2 days.",
        "The missing items are on their way and will be with you in 25 minutes.",
    ],
    didnt=["check the flat number", "call the driver", "report it straight away"],
    did=["order from a restaurant outside your area", "leave the gate locked"],
    goals=["getting you fed tonight", "sorting the refund", "making sure it doesn't happen again"],
    elsewhere=["the restaurant", "the driver", "your bank"],
    items=["order", "delivery", "voucher"],
)

CAR = Industry(
    name="car repair",
    cases=[
        (
            "I left my car for a service and you've had it five days",
            "your car went in for a service and you've been without it for five days",
            "the service delay",
        ),
        (
            "You quoted me 300 and the bill was 650",
            "the bill came to 650 when you were quoted 300",
            "the bill",
        ),
        (
            "The warning light came back on the day after the repair",
            "the warning light came back the day after the repair",
            "the warning light",
        ),
        (
            "My car came back with a scratch on the door",
            "your car came back with a new scratch on the door",
            "the scratch",
        ),
        (
            "Nobody called me about the part like they said they would",
            "you were promised a call about the part and nobody rang",
            "the part update",
        ),
    ],
    outcome_questions=[
        "When will my car be ready?",
        "Can you knock the bill down to the quote?",
        "Will you fix the scratch?",
        "How long will the part take?",
    ],
    howto_questions=["How do I book an MOT?", "What time do you open on Saturday?"],
    tasks=["start the car", "book online", "pay the deposit"],
    symptoms=["the warning light", "the noise from the engine", "the scratch"],
    actions=[
        "book the car back in for tomorrow morning",
        "lower the bill to the original quote",
        "repair the scratch at our cost",
        "arrange a courtesy car",
    ],
    done=[
        "booked your car back in for 8am tomorrow",
        "reduced the bill to the quoted price",
        "arranged a courtesy car",
        "ordered the part on express",
    ],
    plan_b=[
        "get the workshop manager to look at it today",
        "arrange a courtesy car while you wait",
        "source the part from another supplier",
    ],
    teams=["workshop", "parts department", "service desk"],
    limits=[
        ("I can't make the part arrive faster", "lend you a courtesy car until it does"),
        (
            "I can't cancel the extra work now it's done",
            "split the cost with you since we didn't call first",
        ),
    ],
    policies=[
        (
            "We test drive every car after a repair",
            "so we know the fault is really fixed before you get it back",
        ),
        ("We call before any work over the quote", "so you're never surprised by the bill"),
    ],
    blames=[
        ("you ignored the warning light for weeks", "brought it in when the light first came on"),
        ("you approved the extra work on the phone", "asked for the price first"),
    ],
    minor=["a tiny scratch", "a couple of extra days", "a small noise"],
    process=[
        "Parts are ordered through the manufacturer's network.",
        "Billing disputes go to the service manager for review.",
    ],
    outcomes=[
        "Your car will be ready by 4pm tomorrow.",
        "The part arrives Wednesday and the car will be done Thursday lunchtime.",
    ],
    didnt=["bring it in sooner", "ask for a written quote", "check the car before driving off"],
    did=["keep driving with the light on", "fit the part yourself"],
    goals=["getting your car back on the road", "putting the bill right", "fixing the scratch"],
    elsewhere=["the dealership", "the manufacturer", "your warranty provider"],
    items=["car", "repair", "service"],
)

TRANSPORT = Industry(
    name="transport",
    cases=[
        (
            "The 8:05 train has been cancelled every day this week",
            "the 8:05 train has been cancelled every day this week",
            "the cancellations",
        ),
        (
            "I was fined on the bus even though my pass was valid",
            "you were fined on the bus with a valid pass",
            "the fine",
        ),
        (
            "The ticket machine took my money and gave me no ticket",
            "the machine took your money without printing a ticket",
            "the ticket machine",
        ),
        (
            "My season ticket renewal charged me twice",
            "your season ticket renewal was charged twice",
            "the double charge",
        ),
        (
            "The driver didn't let me on with my wheelchair",
            "the driver wouldn't let you board with your wheelchair",
            "the boarding refusal",
        ),
    ],
    outcome_questions=[
        "When will the trains run normally?",
        "Can you cancel the fine?",
        "Will I get my money back from the machine?",
        "How long do delay repay claims take?",
    ],
    howto_questions=[
        "How do I claim delay repay?",
        "Where do I buy a weekly pass?",
        "How do I add a railcard?",
    ],
    tasks=["buy the ticket in the app", "top up the card", "claim delay repay"],
    symptoms=["the error on the machine", "the fine", "the charge"],
    actions=[
        "cancel the penalty fare",
        "refund the money the machine took",
        "refund the second season ticket charge",
        "report the driver to the depot manager",
    ],
    done=[
        "cancelled the penalty fare",
        "refunded the 12 pounds from the machine",
        "refunded the duplicate charge",
    ],
    plan_b=[
        "book you an accessible taxi at our cost",
        "send you a travel voucher for the week",
        "escalate the fine to the appeals team",
    ],
    teams=["revenue protection team", "customer relations team", "accessibility team"],
    limits=[
        ("I can't stop the fine from here", "lodge an appeal for you now"),
        ("I can't run extra trains", "book you a taxi when the 8:05 is cancelled"),
    ],
    policies=[
        ("We check tickets on every service", "so that fares stay lower for everyone who pays"),
        (
            "Drivers must check the ramp before boarding a wheelchair",
            "so you can get on and off safely",
        ),
    ],
    blames=[
        ("you didn't tap in at the start", "tapped in"),
        ("your railcard had expired", "renewed the railcard"),
    ],
    minor=["a short delay", "a small fine", "one cancelled train"],
    process=[
        "Delay repay claims are processed in the order they are received.",
        "Fines are reviewed by the revenue protection team.",
    ],
    outcomes=[
        "Your delay repay of 14 pounds will be paid within 5 working days.",
        "Yes, I've cancelled the fine.",
    ],
    didnt=["tap in at the barrier", "keep your ticket", "renew the railcard"],
    did=["board without a ticket", "use an expired railcard"],
    goals=["getting you to work on time", "getting the fine cancelled", "getting your money back"],
    elsewhere=["Network Rail", "the bus operator", "the council"],
    items=["ticket", "pass", "journey"],
)

INDUSTRIES: list[Industry] = [
    AIRLINE,
    TELECOM,
    BANK,
    ECOMMERCE,
    SAAS,
    UTILITIES,
    INSURANCE,
    HEALTHCARE,
    HOTEL,
    FOOD,
    CAR,
    TRANSPORT,
]

#: (how the customer says they feel, the feeling as a noun, the situation as an adjective)
FEELINGS: list[tuple[str, str, str]] = [
    ("frustrated", "frustration", "frustrating"),
    ("worried", "worry", "worrying"),
    ("upset", "upset", "upsetting"),
    ("annoyed", "annoyance", "annoying"),
    ("disappointed", "disappointment", "disappointing"),
    ("stressed", "stress", "stressful"),
    ("angry", "anger", "infuriating"),
    ("confused", "confusion", "confusing"),
    ("exhausted", "exhaustion", "exhausting"),
    ("anxious", "anxiety", "nerve-racking"),
    ("fed up", "exasperation", "maddening"),
    ("let down", "disappointment", "disheartening"),
]

#: Specific times an agent can be held to.
TIMES = [
    "by 5pm today",
    "before noon tomorrow",
    "within the next hour",
    "by the end of the day",
    "by Friday",
    "first thing tomorrow morning",
    "in the next 30 minutes",
    "this afternoon, before 4pm",
    "by Wednesday",
    "tomorrow between 9 and 11",
    "at 3pm today",
    "by close of business on Thursday",
    "within 24 hours",
    "at 10:30 tomorrow",
]

VAGUE_TIMES = [
    "soon",
    "shortly",
    "as soon as we can",
    "in due course",
    "at some point",
    "when we can",
]

COLLEAGUES: list[tuple[str, str, str]] = [
    ("Priya", "she", "her"),
    ("Tom", "he", "him"),
    ("Aisha", "she", "her"),
    ("Marco", "he", "him"),
    ("Jess", "she", "her"),
    ("Daniel", "he", "him"),
    ("Mei", "she", "her"),
    ("Olu", "he", "him"),
    ("Lucia", "she", "her"),
    ("Raj", "he", "him"),
    ("Hannah", "she", "her"),
    ("Kofi", "he", "him"),
]

CUSTOMER_NAMES = [
    "Sam",
    "Alex",
    "Jordan",
    "Chris",
    "Maria",
    "Ahmed",
    "Lena",
    "Grace",
    "Tariq",
    "Zoe",
    "Ben",
    "Nadia",
]
AGENT_NAMES = ["Ellie", "Jamal", "Rosa", "Kieran", "Anya", "Luis", "Fern", "Dev", "Iris", "Marcus"]
PHONES = ["0800 123 4567", "1-800-555-0142", "0345 600 7788", "the number on our website"]
