"""Hand-written post templates for the synthetic scenarios (all texts written by the Vigie project).

The brand is fictional: **Brivolle**, a French maker of small kitchen appliances; its competitor
**Cuivrelle** (cookware) is fictional too. Templates carry slots (`{brand}`, `{le}`, `{city}`...) filled by
`render`, then `roughen` adds what real posts have: missing accents, typos, elongations, emoji, hashtags.
Ordinary chatter is built from opener + body + closer so that no two posts are near-duplicates by accident;
only the copy-paste campaign of a bad buzz is meant to be.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

BRAND = "Brivolle"
BRAND_HANDLE = "Brivolle_FR"
COMPETITOR = "Cuivrelle"


@dataclass(frozen=True)
class Product:
    bare: str  # "Kettla"
    le: str  # "la bouilloire Kettla"
    mon: str  # "ma bouilloire Kettla"
    un: str  # "une bouilloire Kettla"
    en: str  # "Kettla kettle"


PRODUCTS = [
    Product("Mijoteo 3", "le multicuiseur Mijoteo 3", "mon Mijoteo 3", "un Mijoteo 3", "Mijoteo 3 multicooker"),
    Product("Kettla", "la bouilloire Kettla", "ma bouilloire Kettla", "une bouilloire Kettla", "Kettla kettle"),
    Product("Tourbillon", "le blender Tourbillon", "mon blender Tourbillon", "un blender Tourbillon", "Tourbillon blender"),
    Product("Pétrin Pro", "le robot Pétrin Pro", "mon robot Pétrin Pro", "un robot Pétrin Pro", "Petrin Pro stand mixer"),
    Product("AirCroq", "la friteuse AirCroq", "ma friteuse AirCroq", "une friteuse AirCroq", "AirCroq air fryer"),
    Product("Aroma+", "la cafetière Aroma+", "ma cafetière Aroma+", "une cafetière Aroma+", "Aroma+ coffee maker"),
    Product("Doré", "le grille-pain Doré", "mon grille-pain Doré", "un grille-pain Doré", "Doré toaster"),
]
COMPETITOR_PRODUCTS = [
    Product("Cocotte 24", "la cocotte Cuivrelle", "ma cocotte Cuivrelle", "une cocotte Cuivrelle", "Cuivrelle dutch oven"),
    Product("Sauteuse", "la sauteuse Cuivrelle", "ma sauteuse Cuivrelle", "une sauteuse Cuivrelle", "Cuivrelle sauté pan"),
    Product("Poêle Tradi", "la poêle Cuivrelle", "ma poêle Cuivrelle", "une poêle Cuivrelle", "Cuivrelle frying pan"),
]

# -- slot values -------------------------------------------------------------------------------
SLOTS: dict[str, list[str]] = {
    "city": ["Lyon", "Nantes", "Lille", "Bordeaux", "Rennes", "Toulouse", "Marseille", "Strasbourg", "Montpellier",
             "Brest", "Grenoble", "Dijon", "Tours", "Angers", "Metz", "Clermont", "Nancy", "Rouen", "Caen", "Pau"],
    "city_en": ["Leeds", "Dublin", "Montreal", "Brussels", "Bristol", "Toronto", "Geneva", "Glasgow", "Austin", "Cork"],
    "dish": ["une blanquette", "une ratatouille", "une soupe de potimarron", "un pot-au-feu", "un risotto aux cèpes",
             "des crêpes", "un curry de lentilles", "un velouté de carottes", "un gratin dauphinois", "un chili",
             "des gaufres", "une brioche", "un smoothie banane", "un houmous", "un boeuf carottes", "des frites",
             "un pain de mie", "une compote", "un dahl", "des madeleines"],
    "dish_en": ["a lentil curry", "banana bread", "a chili", "pancakes", "a pumpkin soup", "fries", "a smoothie",
                "sourdough", "a risotto", "hummus", "a stew", "granola"],
    "when": ["ce matin", "hier soir", "ce midi", "dimanche", "hier", "tout à l'heure", "ce week-end", "lundi"],
    "when_en": ["this morning", "last night", "today", "on Sunday", "yesterday", "at lunch", "this weekend"],
    "weeks": ["2 semaines", "3 mois", "6 mois", "un an", "deux ans", "10 jours", "un mois", "quatre mois"],
    "weeks_en": ["two weeks", "3 months", "six months", "a year", "two years", "a month", "ten days"],
    "price": ["49", "59", "79", "89", "99", "129", "149", "39"],
    "who": ["ma mère", "mon coloc", "ma sœur", "mon père", "ma copine", "mon mari", "ma grand-mère", "mon frère",
            "ma voisine", "mon oncle"],
    "who_en": ["my mum", "my roommate", "my sister", "my dad", "my partner", "my grandma", "my brother", "my neighbour"],
    "days": ["3", "5", "8", "10", "12", "15", "20"],
    "e_pos": ["😍", "👌", "🔥", "😋", "👍", "✨", "🥰", "💯", "🙌", "😊"],
    "e_neg": ["😡", "🤬", "😤", "👎", "🙄", "😠", "💢", "😒"],
    "e_neu": ["🤔", "👀", "🍳", "☕", "🥣", "🤷", "📦"],
    "e_sad": ["😢", "😭", "😞", "💔", "😩"],
}

# -- ordinary chatter: openers, bodies, closers ------------------------------------------------
FR_OPENERS = ["", "", "", "Bon, ", "Alors ", "Perso ", "Franchement ", "Petit retour : ", "Avis : ", "Bref, ",
              "Dites, ", "Honnêtement ", "Sinon ", "Update : ", "Bon ben ", "Je dois avouer que "]
EN_OPENERS = ["", "", "", "Ok so ", "Honestly ", "Quick review: ", "Not gonna lie, ", "PSA: ", "Update: ", "Tbh ",
              "So ", "Hot take: "]
FR_CLOSERS = ["", "", "", " mdr", " ptdr", " voilà voilà", " bref", " 👌", " à suivre", " je valide", " (pas sponso)",
              " c'est tout", " on verra bien", " je dis ça je dis rien", " merci {brand}", " voilà"]
EN_CLOSERS = ["", "", "", " lol", " ngl", " fr", " 10/10", " (not sponsored)", " just saying", " anyway", " 🙃"]

FR_POS = [
    "[{dish} en un rien de temps|{dish} prêt en vingt minutes|{dish} réussi du premier coup] avec {mon}, [je suis fan|j'adore|trop content|validé] {e_pos}",
    "{le} de {brand} est [génial|top|vraiment bien], {who} m'a [piqué|demandé] la recette [de|pour] {dish}",
    "après {weeks} avec {mon}, [toujours au top|toujours nickel|aucun regret], [rien à redire|je recommande|que du bonheur]",
    "j'ai offert {un} à {who} [pour son anniv|pour Noël|pour sa crémaillère], [gros succès|carton plein|cadeau validé] {e_pos}",
    "{brand} [franchement|honnêtement] bonne surprise, {le} est [solide|costaud|bien fini] et [facile à nettoyer|silencieux|rapide]",
    "[test|essai] de {dish} avec {mon} {when} : [parfait|impeccable|une réussite], [la famille|tout le monde|les enfants] [a adoré|en redemande]",
    "je recommande {le}, [rapport qualité prix imbattable|excellent achat|très bon produit] à {price}€",
    "le SAV {brand} m'a [répondu|rappelé] en [2h|une journée|une heure] et a [remplacé la pièce|envoyé un joint neuf|tout réglé], [chapeau|bravo|rien à dire]",
    "{mon} tourne [tous les jours|matin et soir|sans arrêt] depuis {weeks}, toujours impeccable, [super achat|meilleur achat de l'année]",
    "[meilleur achat de l'année|coup de coeur de l'année|achat validé] : {un} de chez {brand} {e_pos}",
    "trop bien {le}, même {who} qui déteste cuisiner s'y met [enfin|maintenant|lol]",
    "livré en [48h|deux jours|24h] à {city}, {le} est [beau en vrai|encore mieux qu'en photo|très joli], hâte de tester {dish}",
    "bravo {brand}, [le design|la finition|la couleur] de {le} est [super réussi|magnifique|top]",
    "{dish} maison [avec|grâce à] {mon} {when}, [un régal|trop bon|on s'est régalés] {e_pos}",
    "j'hésitais [longtemps|depuis des mois] mais {le} vaut vraiment le coup, [content|ravie|heureux] de mon choix",
    "{brand} c'est du solide, {mon} a survécu à [un déménagement|deux déménagements|mes enfants] à {city}",
    "{who} adore {sa_le}, on en reprend {un} pour [la maison de vacances|le bureau|ma fille]",
    "la recette de {dish} du [livret|site] {brand} est [top|parfaite|trop bonne], {le} fait [tout|le plus gros du travail]",
    "{mon} = [meilleur investissement cuisine|le meilleur ami de ma cuisine|indispensable], [je l'utilise matin et soir|il ne quitte plus le plan de travail]",
    "[petit kiff du jour|bonheur simple] : {dish} [fait avec|préparé dans] {mon} {e_pos}",
]
FR_NEU = [
    "[quelqu'un a testé|vous avez testé|des avis sur] {le} ? je [cherche un avis|me renseigne] avant [d'acheter|de craquer]",
    "{le} est en promo à {price}€ [cette semaine|ce week-end|jusqu'à dimanche], [ça vaut le coup|bonne affaire ou pas] ?",
    "vous mettez combien de temps pour {dish} [dans|avec] {le} ?",
    "vu {le} en magasin à {city}, [plus petit|plus grand|plus lourd] que je [pensais|l'imaginais] {e_neu}",
    "{brand} ou {competitor} pour [équiper un premier appart|une liste de mariage|un cadeau] ?",
    "je cherche la notice de {le}, quelqu'un l'a [en pdf|sous la main] ?",
    "est-ce que {le} passe au lave-vaisselle ? {e_neu}",
    "{who} veut {un} pour [Noël|son anniversaire|la fête des mères], [c'est bien ou pas|des retours] ?",
    "[nouvelle couleur|nouvelle édition] pour {le} chez {brand}, vous en pensez quoi ?",
    "on m'a offert {un}, des idées de recettes à part {dish} ?",
    "comparatif {le} vs le modèle d'avant, quelqu'un a [les deux|testé les deux] ?",
    "c'est normal que {mon} fasse un petit bruit [au démarrage|en chauffant] ?",
    "{brand} sort un nouveau modèle [le mois prochain|au printemps|bientôt] d'après [une newsletter|un vendeur à {city}]",
    "pour {dish}, vous utilisez quel programme sur {le} ?",
    "je déménage à {city}, je garde {mon} ou je [le revends|le donne à {who}] ?",
    "le magasin de {city} a du stock de {le} ? {e_neu}",
]
FR_COMPLAINT = [
    "livraison de {le} en retard de {days} jours, [toujours rien|aucune nouvelle|le suivi ne bouge pas] {e_neg}",
    "{mon} fait un bruit bizarre depuis {weeks}, [un peu déçu|bof|pas rassurant]",
    "le SAV {brand} met une éternité à répondre, ça fait {days} jours [que j'attends|sans réponse]",
    "{le} à {price}€ c'est quand même [cher|abusé|beaucoup] pour ce que c'est",
    "[déçu|déçue] par {le}, [le couvercle ferme mal|le joint fuit un peu|le bouton accroche] et c'est pénible à laver",
    "colis arrivé abîmé à {city}, {le} rayé, [pas top|dommage|grr] {e_neg}",
    "pourquoi {le} n'est jamais en stock ? ça fait {days} jours que j'attends",
    "franchement le câble de {mon} est [beaucoup trop court|ridiculement court]",
    "{mon} a lâché au bout de {weeks}, garantie en cours, [on verra|j'attends la réponse]",
    "l'appli {brand} plante à chaque [mise à jour|ouverture], [pénible|agaçant]",
    "bof {le}, {dish} a attaché au fond, je m'attendais à mieux",
    "service client {brand} pas très aimable au téléphone {when}",
]
EN_POS = [
    "my {en} makes {dish_en} super quickly, [love it|obsessed|10/10] {e_pos}",
    "been using the {en} for {weeks_en}, [still great|zero regrets|works like day one]",
    "got {who_en} a {en} for their birthday, [huge hit|they love it] {e_pos}",
    "{brand} customer service [replaced a part|sent a new lid|sorted my issue] in [two days|a day], impressed",
    "the {en} is [honestly|genuinely] the best [kitchen thing|appliance] I own",
    "made {dish_en} with my {en} {when_en}, turned out [perfect|amazing|so good]",
    "solid build, easy to clean, the {en} from {brand} is [worth it|a great buy]",
    "shipped to {city_en} [fast|in two days], the {en} looks great on my counter",
    "{brand} really nailed the [design|colour|finish] of the {en} {e_pos}",
    "didn't expect much from the {en} but it's [fantastic|brilliant|really good]",
]
EN_NEU = [
    "anyone tried the {en} from {brand}? [thinking of buying one|worth it?]",
    "is the {en} dishwasher safe? {e_neu}",
    "{brand} vs {competitor} for [a first apartment|a wedding list], thoughts?",
    "the {en} is on sale for {price} [this week|until Sunday], worth it?",
    "how long does {dish_en} take in the {en}?",
    "saw the {en} in a shop in {city_en}, [smaller|bigger] than expected",
    "does the {en} work with a [UK|US] plug adapter?",
    "any good recipes for the {en} besides {dish_en}?",
]
EN_COMPLAINT = [
    "my {en} delivery is {days} days late, [still nothing|no update] {e_neg}",
    "{brand} support takes forever to reply, day {days} of waiting",
    "the {en} is a bit overpriced for what it does tbh",
    "my {en} started making a weird noise after {weeks_en}",
    "the {brand} app [crashes every time I open it|logged me out again]",
    "{dish_en} stuck to the bottom of the {en}, kinda disappointed",
]
COMPETITOR_FR = [
    "{le} de {competitor} tient super bien la chaleur, {dish} parfait",
    "quelqu'un a {un} ? ça vaut le prix ?",
    "{competitor} sort une nouvelle gamme en cuivre, [jolie mais chère|très belle]",
    "{mon} a bientôt {weeks}, toujours nickel",
    "{competitor} ou {brand} pour une liste de mariage ?",
    "déçu par {le}, le revêtement s'abîme déjà au bout de {weeks}",
    "vu {le} en vitrine à {city}, très belle couleur",
    "{dish} dans {mon}, un classique du dimanche",
    "livraison {competitor} rapide, colis arrivé à {city} en 2 jours",
]
COMPETITOR_EN = [
    "the {competitor} pans are pricey but they last forever",
    "anyone own a {en}? worth the price?",
    "made {dish_en} in my {en} {when_en}, so good",
    "{competitor} customer service was slow but polite",
]

# -- a bad buzz: grievances ---------------------------------------------------------------------
@dataclass(frozen=True)
class Grievance:
    """One bad-buzz story: the product at fault, who starts it, what the outrage says."""

    key: str
    product: Product
    description: str
    onset_fr: list[str]  # the first angry posts, by the people who suffered it
    amplifier: str  # the post of the high-follower account that sets it off
    angry_fr: list[str]
    angry_en: list[str]
    replies_fr: list[str]  # answers under the amplifier's post
    copy_bases: list[str]  # copy-pasted outrage
    media: list[str]  # article headlines (feeds)
    brand_replies: list[str]
    defenders: list[str]


LID_BURNS = Grievance(
    key="lid_burns",
    product=PRODUCTS[0],
    description="Le couvercle du multicuiseur Mijoteo 3 s'ouvre sous pression et brûle des clients ; "
                "Brivolle invoque une « mauvaise utilisation » et refuse de rembourser.",
    onset_fr=[
        "Le couvercle de mon Mijoteo 3 s'est ouvert en pleine cuisson, vapeur brûlante sur le bras. {brand} me répond « mauvaise utilisation » et refuse de rembourser. Honteux {e_neg}",
        "{brand} refuse de rembourser mon Mijoteo 3 alors que le couvercle a sauté et que {who} s'est brûlé le bras. Je porte plainte.",
        "Brûlure au 2e degré à cause du Mijoteo 3 de {brand}, le couvercle s'ouvre tout seul sous pression. Et le SAV ose dire que c'est de ma faute ?! Scandaleux.",
        "Attention à vous : le Mijoteo 3 de {brand} est dangereux, le couvercle a explosé chez moi à {city}. Aucun remboursement. {e_neg}",
        "Deux semaines que {brand} me balade après l'accident du Mijoteo 3. Mon fils a été brûlé. Inadmissible.",
    ],
    amplifier="🚨 Scandale {brand} : le couvercle du Mijoteo 3 s'ouvre en pleine cuisson, plusieurs personnes brûlées, et la marque refuse de rembourser en parlant de « mauvaise utilisation ». On relaie, c'est dangereux. #BoycottBrivolle",
    angry_fr=[
        "{brand} qui refuse de rembourser des gens [BRÛLÉS|brûlés|blessés] par leur Mijoteo 3, [c'est un scandale|c'est scandaleux|quelle honte] {e_neg}",
        "Je boycotte {brand} tant que le Mijoteo 3 n'est pas rappelé. [Produit dangereux, c'est honteux.|C'est dangereux et honteux.] #BoycottBrivolle",
        "Le Mijoteo 3 de {brand} envoie des gens aux urgences et la marque [fait l'autruche|se tait|nie tout]. [Honteux.|Scandaleux.|Dégoûtant.]",
        "{brand} remboursez les victimes du Mijoteo 3 !!! {e_neg}",
        "[Arnaque totale|Vraie arnaque] {brand} : produit dangereux et aucun remboursement. [Plainte déposée.|Je porte plainte.|Direction la DGCCRF.]",
        "[Qu'est-ce que fait la DGCCRF|Elle est où la DGCCRF|Et la DGCCRF dans tout ça] ? Le Mijoteo 3 de {brand} brûle des gens et [rien ne bouge|personne ne réagit]",
        "J'ai un Mijoteo 3 à la maison, je le [débranche direct|mets à la poubelle|rapporte demain]. Merci {brand} pour la mise en danger {e_neg}",
        "La réponse de {brand} aux victimes du Mijoteo 3 est [ignoble|honteuse|indigne]. Boycott.",
        "Mon avocat dit qu'on peut attaquer {brand} [en groupe|en action collective] pour le Mijoteo 3. Qui est concerné ?",
        "« Mauvaise utilisation » ?? {brand} se moque des victimes du Mijoteo 3. [Scandaleux.|Honteux.|Méprisant.]",
        "Rappel du Mijoteo 3 MAINTENANT. {brand} vous jouez avec la santé des gens {e_neg}",
        "Plus jamais {brand}. Le Mijoteo 3 est un [danger public|vrai danger] et ils [refusent de rembourser|nient tout|accusent les clients].",
        "{brand} se fiche de ses clients brûlés, seules les marges comptent. [Honteux. Boycott total.|Boycott.|Écoeurant.]",
        "Produit dangereux signalé à la DGCCRF : le Mijoteo 3 de {brand}. Faites pareil, c'est grave.",
        "Mon Mijoteo 3 a aussi fait sauter son couvercle [le mois dernier|en janvier|cet été] à {city}, je pensais être la seule. {brand} m'avait dit que c'était ma faute {e_sad}",
        "C'est dingue cette histoire {brand}, des gens brûlés et la marque nie tout. [Plainte collective !|Boycott !|Honte à eux.]",
        "{who} a le même Mijoteo 3, [je lui ai dit de ne plus s'en servir|on l'a débranché ce matin]. {brand} c'est [scandaleux|inadmissible]",
        "Des brûlures et on nous parle de « mauvaise utilisation »... {brand} [vous êtes indécents|c'est lamentable] {e_neg}",
        "Boycott {brand} jusqu'au rappel du Mijoteo 3. [Personne ne devrait être brûlé par une cocotte.|Votre silence est honteux.]",
    ],
    angry_en=[
        "{brand}'s Mijoteo 3 lid blows open under pressure and burns people, and they refuse refunds. [Disgusting.|Shameful.|Appalling.]",
        "Boycott {brand}. Their Mijoteo 3 is [dangerous|unsafe] and they blame [customers|the victims]. #BoycottBrivolle",
        "A [pressure cooker|multicooker] that burns people and a company that says 'misuse'. {brand} [should face a lawsuit|deserves to be sued].",
        "[Unplugged|Just unplugged|Threw out] my Mijoteo 3 after [reading this|this thread]. {brand} this is a [disgusting|shocking] safety scandal {e_neg}",
        "{brand} [refund the victims|pay the victims back] and recall the Mijoteo 3 [now|today]. [Shameful.|Disgraceful.]",
        "[Class action|Lawsuit] against {brand} when? The Mijoteo 3 is a [hazard|fire hazard|danger to families].",
        "[Burns|People burned] and no refund? {brand} is [disgraceful|a disgrace]. Never buying from them again.",
        "The way {brand} treats Mijoteo 3 victims is [awful|shameful]. Boycott.",
    ],
    replies_fr=[
        "Pareil chez moi, couvercle ouvert en pleine cuisson, heureusement personne n'a été brûlé",
        "Merci de relayer, ma belle-sœur a eu exactement le même accident avec le Mijoteo 3",
        "Il faut un rappel produit immédiat, c'est dangereux",
        "{brand} doit rembourser tout le monde et s'excuser, c'est inadmissible",
        "Incroyable que ce produit soit encore en vente",
        "J'ai contacté une asso de consommateurs, ils montent un dossier",
        "Scandale. On relaie partout",
        "Et dire que j'allais en acheter un pour Noël...",
    ],
    copy_bases=[
        "STOP au Mijoteo 3 ! {brand} doit rappeler ce produit DANGEREUX et rembourser toutes les victimes. Nous exigeons des excuses publiques. #BoycottBrivolle #Mijoteo3",
        "Le Mijoteo 3 de {brand} brûle des familles et la marque refuse de rembourser. C'est honteux. Signez, partagez, boycottez. #BoycottBrivolle",
    ],
    media=[
        "Mijoteo 3 : des clients brûlés, Brivolle accusé de refuser les remboursements",
        "Multicuiseur Mijoteo 3 : la DGCCRF saisie après plusieurs accidents",
        "Brivolle dans la tourmente : appels au boycott après des brûlures liées au Mijoteo 3",
        "Mijoteo 3 : une plainte collective en préparation contre Brivolle",
    ],
    brand_replies=[
        "Bonjour, nous sommes sincèrement désolés. Pouvez-vous nous écrire en message privé avec votre numéro de commande ? Nous revenons vers vous rapidement.",
        "Nous prenons ces signalements très au sérieux et analysons chaque cas avec nos équipes qualité.",
        "Bonjour, notre service consommateurs va vous contacter aujourd'hui. Merci pour votre patience.",
    ],
    defenders=[
        "J'ai un Mijoteo 3 depuis [deux ans|l'an dernier|sa sortie], jamais eu [le moindre souci|de problème] perso",
        "Attendons les faits avant de crier au boycott de {brand}, il faut voir comment [il a été utilisé|la cocotte a été utilisée]",
        "Quelqu'un sait si [ça concerne|le problème touche] tous les Mijoteo 3 ou un seul lot ?",
        "Honnêtement je ne sais pas quoi penser de cette histoire {brand}",
        "Question sérieuse : comment on vérifie le numéro de lot du Mijoteo 3 ?",
        "{brand} va sûrement [communiquer|répondre] [demain|bientôt], attendons avant de juger",
    ],
)

REFUND_REFUSAL = Grievance(
    key="refund_refusal",
    product=PRODUCTS[4],
    description="Des friteuses AirCroq défectueuses ; Brivolle refuse les remboursements et supprime les avis négatifs.",
    onset_fr=[
        "Ma friteuse AirCroq ne chauffe plus au bout d'un mois et {brand} refuse de me rembourser. Arnaque {e_neg}",
        "{brand} a supprimé mon avis négatif sur l'AirCroq. Produit défectueux, aucun remboursement. Honteux.",
        "Troisième AirCroq en panne, {brand} refuse toujours le remboursement. Je vais porter plainte.",
    ],
    amplifier="⚠️ {brand} refuse de rembourser des friteuses AirCroq défectueuses ET supprime les avis négatifs. Des dizaines de témoignages. Pratique commerciale trompeuse ? #BoycottBrivolle",
    angry_fr=[
        "{brand} c'est une arnaque, AirCroq en panne et zéro remboursement",
        "Supprimer les avis négatifs au lieu de rembourser, bravo {brand}. Boycott.",
        "Plainte déposée contre {brand} pour mon AirCroq, aucun remboursement depuis {days} jours",
        "{brand} remboursez vos clients !!! {e_neg}",
        "Signalement DGCCRF fait pour {brand}, pratique trompeuse sur l'AirCroq",
        "Je ne rachèterai plus jamais {brand}, service client honteux",
        "Avocat contacté pour mon AirCroq, {brand} ne répond plus",
    ],
    angry_en=[
        "{brand} refuses refunds for broken AirCroq air fryers and deletes bad reviews. Scam.",
        "Boycott {brand}, their AirCroq died in a month and no refund. #BoycottBrivolle",
        "Deleting negative reviews instead of refunding? {brand} deserves a lawsuit.",
    ],
    replies_fr=[
        "Pareil, mon AirCroq est mort au bout de 5 semaines, aucun remboursement",
        "Ils ont aussi supprimé mon avis, je confirme",
        "{brand} doit rembourser tout le monde",
        "Merci de relayer, on est nombreux dans ce cas",
    ],
    copy_bases=[
        "{brand} REMBOURSEZ vos clients ! AirCroq défectueuses, avis supprimés, aucune réponse. Nous demandons justice. #BoycottBrivolle",
        "Arnaque AirCroq : {brand} refuse les remboursements et censure les avis. Partagez pour alerter. #BoycottBrivolle",
    ],
    media=[
        "AirCroq : des clients de Brivolle dénoncent des refus de remboursement",
        "Avis supprimés, remboursements refusés : Brivolle sous le feu des critiques",
    ],
    brand_replies=[
        "Bonjour, nous sommes désolés pour cette expérience. Écrivez-nous en privé, nous allons trouver une solution.",
        "Nous ne supprimons aucun avis conforme à notre charte. Notre service client reprend chaque dossier.",
    ],
    defenders=[
        "Mon AirCroq marche très bien depuis un an perso",
        "Il faudrait des chiffres avant de parler d'arnaque chez {brand}",
    ],
)

GRIEVANCES = {g.key: g for g in (LID_BURNS, REFUND_REFUSAL)}

# -- a positive viral moment ---------------------------------------------------------------------
POSITIVE_SOURCE = (
    "Testé le nouveau blender Tourbillon de {brand} pour mon velouté du dimanche : texture de restaurant, "
    "silencieux, et le design 😍 Je suis bluffée. Vidéo complète sur ma chaîne !"
)
POSITIVE_REACTIONS_FR = [
    "Le Tourbillon de {brand} a l'air [incroyable|génial|trop bien], [je craque|je le veux|il me le faut] {e_pos}",
    "[Ta vidéo|Cette vidéo] donne trop envie, le Tourbillon de {brand} [est magnifique|a l'air parfait] {e_pos}",
    "{dish} au Tourbillon ce soir, [merci|grâce à] la vidéo de Margaux {e_pos}",
    "Commandé le Tourbillon après ta vidéo, trop hâte !!",
    "Ta vidéo m'a convaincu, {brand} Tourbillon dans le panier {e_pos}",
    "Ce velouté donne trop envie, bravo {brand} pour ce blender",
    "J'ai le Tourbillon depuis la sortie, il est génial, confirmé",
    "Superbe vidéo, et le Tourbillon est magnifique {e_pos}",
    "Enfin un blender silencieux ! Merci {brand}",
    "La couleur du Tourbillon est trop belle, je veux la même cuisine aussi mdr",
    "Je valide à 100%, le Tourbillon a changé mes smoothies du matin {e_pos}",
    "Trop bien, {who} a le même et ne jure que par lui",
    "Coup de coeur pour le Tourbillon de {brand} {e_pos}",
    "Ok je suis convaincue, joli travail {brand}",
]
POSITIVE_REACTIONS_EN = [
    "That {brand} Tourbillon blender looks [amazing|gorgeous|so good] {e_pos}",
    "[Watched|Loved] the video, the {brand} Tourbillon [is so pretty|seems perfect] {e_pos}",
    "Just ordered the Tourbillon after this video, so excited",
    "Love this! The Tourbillon from {brand} is beautiful",
    "Best blender I've owned, can confirm the hype {e_pos}",
    "Great video, now I need a Tourbillon lol",
]
POSITIVE_QUESTIONS = [
    "Il coûte combien le Tourbillon de {brand} ?",
    "Dispo où le Tourbillon ? Tout est en rupture à {city} {e_neu}",
    "Quelqu'un sait si le Tourbillon fait aussi la glace pilée ?",
    "Le Tourbillon est compatible avec les bols de l'ancien modèle {brand} ?",
    "Le Tourbillon de {brand} il fait combien de watts ? {e_neu}",
]
POSITIVE_QUESTIONS_EN = [
    "Where can I buy the Tourbillon in {city_en}?",
    "How much is the {brand} Tourbillon? {e_neu}",
]
POSITIVE_MILD = [
    "Le Tourbillon est en rupture de stock partout, dommage {e_sad}",
    "Un peu cher pour moi le Tourbillon mais il est beau",
]
POSITIVE_MILD_EN = [
    "The Tourbillon is sold out everywhere, sad {e_sad}",
]

# -- a media article spike: neutral/negative coverage, little public anger --------------
MEDIA_HEADLINES = [
    "{brand} annonce la fermeture de son usine de {city}, 120 emplois menacés",
    "Industrie : {brand} délocalise une partie de sa production",
    "{brand} : les salariés de {city} inquiets après l'annonce de la direction",
]
MEDIA_REACTIONS = [
    "Triste nouvelle pour les salariés {brand} de {city} {e_sad}",
    "Encore une usine qui ferme, {brand} aussi maintenant...",
    "Je pensais que {brand} fabriquait en France, dommage",
    "Soutien aux salariés de {brand} à {city}",
    "Quelqu'un sait ce que deviennent les salariés de {brand} ? {e_neu}",
]
MEDIA_REACTIONS_EN = [
    "Sad news about the {brand} factory in France",
    "So {brand} is moving production abroad too? {e_sad}",
]

# -- what people wrap around an event post (so only the copy-paste campaign is near-identical) -------
DRESSING = {
    ("fr", "neg"): (["", "", "", "Sérieusement ? ", "Incroyable. ", "Je suis choquée. ", "Alors là... ", "Non mais ",
                     "Lisez ça : ", "Hallucinant. ", "Je n'en reviens pas. ", "Bon. ", "Sans voix. "],
                    ["", "", "", " Partagez.", " On ne lâche rien.", " Quelle honte.", " Dégoûtée.", " RT svp",
                     " #Mijoteo3", " Je suis en colère.", " Ça suffit.", " Lamentable.", " 😡😡", " Faites tourner."]),
    ("en", "neg"): (["", "", "Wow. ", "Unbelievable. ", "Seriously? ", "Read this: ", "Yikes. ", "Oh no. "],
                    ["", "", " Share this.", " Shameful.", " Never again.", " #BoycottBrivolle", " Unreal.", " smh"]),
    ("fr", "pos"): (["", "", "", "Waouh ", "Ok ", "Trop bien ! ", "Incroyable ", "J'avoue ", "Ahh ", "Bon ben "],
                    ["", "", "", " merci pour la vidéo", " je valide", " bravo", " vivement le week-end", " 🥰",
                     " j'adore", " trop envie"]),
    ("en", "pos"): (["", "", "Wow ", "Ok ", "Omg ", "Honestly "], ["", "", " love this", " so good", " 🙌", " great video"]),
    ("fr", "neu"): (["", "", "Question : ", "Hmm ", "Du coup ", "Petite question, "], ["", "", " merci !", " 🤔", " ?"]),
    ("en", "neu"): (["", "", "Question: ", "Hmm "], ["", "", " thanks!", " 🤔"]),
}


def dress(text: str, rng: random.Random, lang: str, mood: str) -> str:
    """Wrap an event post in the opener/closer people add around the same idea."""
    openers, closers = DRESSING[(lang, mood)]
    opener = rng.choice(openers)
    if opener and not text[:2].isupper():
        text = text[0].lower() + text[1:]
    return opener + text + rng.choice(closers)


# -- roughening ------------------------------------------------------------------------------------
_SLOT = re.compile(r"\{(\w+)\}")
_CHOICE = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")  # [a|b|c]: one phrasing among several
_ELONGATE = {"trop": "trooop", "super": "superrr", "top": "toooop", "nul": "nuuul", "bien": "biiien", "love": "loooove",
             "so": "sooo", "enfin": "enfiiin", "génial": "géniaaal", "honteux": "honteuuux", "jamais": "jamaiiis",
             "great": "greaaat", "oui": "ouiii", "incroyable": "incroyaaable"}
HASHTAGS_FR = ["#Brivolle", "#cuisine", "#recette", "#faitmaison", "#petitdej", "#cuisinemaison", "#electromenager"]
HASHTAGS_EN = ["#Brivolle", "#cooking", "#kitchen", "#homemade", "#foodie"]


_NAMES = ("brivol", "mijoteo", "kettla", "aircroq", "cuivrelle", "tourbillon")


def _is_name(word: str) -> bool:
    low = word.lower()
    return any(n in low for n in _NAMES)


def brand_variant(rng: random.Random, lang: str) -> str:
    """How people actually write the brand: mostly right, sometimes lowercase, tagged or misspelt."""
    r = rng.random()
    if r < 0.58:
        return BRAND
    if r < 0.78:
        return BRAND.lower()
    if r < 0.9:
        return "@" + BRAND_HANDLE
    if r < 0.95:
        return "Brivole"  # the common misspelling the topic query also covers
    return BRAND.upper() if lang == "fr" else BRAND


def render(template: str, rng: random.Random, lang: str, product: Product | None = None,
           brand: str | None = None, competitor: str = COMPETITOR) -> str:
    """Fill `{slot}`s; one product and one brand spelling per post so the text stays coherent."""
    product = product or rng.choice(PRODUCTS)
    brand = brand or brand_variant(rng, lang)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "brand":
            return brand
        if name == "competitor":
            return competitor
        if name in ("le", "mon", "un", "en"):
            return getattr(product, name)
        if name == "sa_le":
            return product.mon.replace("mon ", "son ").replace("ma ", "sa ")
        if name == "p":
            return product.bare
        if name in SLOTS:
            return rng.choice(SLOTS[name])
        raise KeyError(f"unknown template slot {{{name}}} in {template!r}")

    text = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template)
    text = _SLOT.sub(fill, text)
    for loose, contracted in _CONTRACTIONS:  # "la notice de le robot" -> "la notice du robot"
        text = text.replace(loose, contracted)
    return text[0].upper() + text[1:] if text else text


_CONTRACTIONS = ((" de le ", " du "), (" à le ", " au "), ("De le ", "Du "), ("À le ", "Au "))


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


_MOOD_EMOJI = {
    "pos": SLOTS["e_pos"],
    "neu": SLOTS["e_neu"] + SLOTS["e_pos"],
    "neg": SLOTS["e_neg"] + SLOTS["e_sad"],
}


def roughen(text: str, rng: random.Random, lang: str, *, mood: str = "neu", tags: float = 0.18,
            emoji: float = 0.25) -> str:
    """Make a clean sentence look typed on a phone: accents dropped, typos, elongations, tags, emoji."""
    if lang == "fr" and rng.random() < 0.12:
        text = strip_accents(text)
    if rng.random() < 0.15:
        text = text.lower()
    words = text.split(" ")
    if rng.random() < 0.1:
        for i, w in enumerate(words):
            if w.lower() in _ELONGATE:
                words[i] = _ELONGATE[w.lower()]
                break
    if rng.random() < 0.08:
        # Never inside a brand or product name: a misspelt name is a post the topic query misses, and
        # which misspellings a query covers is the job of its aliases, not of random noise.
        candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha() and not _is_name(w)]
        if candidates:
            i = rng.choice(candidates)
            w = words[i]
            j = rng.randrange(len(w) - 1)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]  # swapped letters
    text = " ".join(words)
    if rng.random() < emoji:
        text += " " + rng.choice(_MOOD_EMOJI[mood])  # an emoji that fits the mood of the post
    if rng.random() < tags:
        pool = HASHTAGS_FR if lang == "fr" else HASHTAGS_EN
        text += " " + " ".join(rng.sample(pool, rng.choice((1, 1, 2))))
    return text


def ordinary_text(rng: random.Random, lang: str, mood: str, competitor_topic: bool = False) -> str:
    """One post of everyday chatter: opener + body (by mood) + closer, then roughened."""
    if competitor_topic:
        body = rng.choice(COMPETITOR_FR if lang == "fr" else COMPETITOR_EN)
        product = rng.choice(COMPETITOR_PRODUCTS)
        text = render(body, rng, lang, product=product)
    else:
        bodies = {
            ("fr", "pos"): FR_POS, ("fr", "neu"): FR_NEU, ("fr", "neg"): FR_COMPLAINT,
            ("en", "pos"): EN_POS, ("en", "neu"): EN_NEU, ("en", "neg"): EN_COMPLAINT,
        }[(lang, mood)]
        openers, closers = (FR_OPENERS, FR_CLOSERS) if lang == "fr" else (EN_OPENERS, EN_CLOSERS)
        brand = brand_variant(rng, lang)
        product = rng.choice(PRODUCTS)
        body = render(rng.choice(bodies), rng, lang, product=product, brand=brand)
        opener = rng.choice(openers)
        if opener:
            body = body[0].lower() + body[1:]
        text = opener + body + render(rng.choice(closers), rng, lang, product=product, brand=brand)
        if not mentions_brand(text):
            text += " " + ("#Brivolle" if rng.random() < 0.5 else f"@{BRAND_HANDLE}")
    return roughen(text, rng, lang, mood=mood)


def mentions_brand(text: str) -> bool:
    """True when the demo topic query (brivolle / brivole / mijoteo / kettla / aircroq) would match."""
    low = strip_accents(text.lower())
    return any(k in low for k in ("brivolle", "brivole", "mijoteo", "kettla", "aircroq"))


def mutate_copy(text: str, rng: random.Random) -> str:
    """Copy-paste outrage: the same text with the tiny edits people make when they paste it."""
    r = rng.random()
    if r < 0.25:
        text = text.replace("!", "!!", 1)
    elif r < 0.4:
        text = text.replace(" #Mijoteo3", "")
    elif r < 0.5:
        text = "@" + BRAND_HANDLE + " " + text
    if rng.random() < 0.35:
        text += " " + rng.choice(SLOTS["e_neg"])
    if rng.random() < 0.1:
        text = text.upper()
    return text
