"""Country and language codes and names, for reading what sources write into ISO codes.

Data: ISO 3166-1 (alpha-2, alpha-3, names) and ISO 639-1/639-2 (codes, names) as shipped by pycountry 26.2.16,
with the names of each country in en, fr, es, ru, ar, zh, de, it, nl, pt and of each language in en, fr, es,
de and its own language from Unicode CLDR 47 (Babel 2.18.0). One row per entry:
    countries: "<alpha-2> <alpha-3> <name>|<name>|..."
    languages: "<639-1> <639-2/T> <639-2/B or -> <name>|<name>|..."
A name shared by two entries is ambiguous and matches neither.
"""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from .text import clean, fold

_COUNTRY_ROWS = """\
AD AND Andorra|Principality of Andorra|Andorre|Андорра|أندورا|安道尔
AE ARE United Arab Emirates|Émirats arabes unis|Emiratos Árabes Unidos|ОАЭ|الإمارات العربية المتحدة|阿拉伯联合酋长国|Vereinigte Arabische Emirate|Emirati Arabi Uniti|Verenigde Arabische Emiraten|Emirados Árabes Unidos
AF AFG Afghanistan|Islamic Republic of Afghanistan|Afganistán|Афганистан|أفغانستان|阿富汗|Afeganistão
AG ATG Antigua and Barbuda|Antigua & Barbuda|Antigua-et-Barbuda|Antigua y Barbuda|Антигуа и Барбуда|أنتيغوا وبربودا|安提瓜和巴布达|Antigua und Barbuda|Antigua e Barbuda|Antigua en Barbuda|Antígua e Barbuda
AI AIA Anguilla|Anguila|Ангилья|أنغويلا|安圭拉
AL ALB Albania|Republic of Albania|Albanie|Албания|ألبانيا|阿尔巴尼亚|Albanien|Albanië|Albânia
AM ARM Armenia|Republic of Armenia|Arménie|Армения|أرمينيا|亚美尼亚|Armenien|Armenië|Armênia
AO AGO Angola|Republic of Angola|Ангола|أنغولا|安哥拉
AQ ATA Antarctica|Antarctique|Antártida|Антарктида|أنتاركتيكا|南极洲|Antarktis|Antartide
AR ARG Argentina|Argentine Republic|Argentine|Аргентина|الأرجنتين|阿根廷|Argentinien|Argentinië
AS ASM American Samoa|Samoa américaines|Samoa Americana|Американское Самоа|ساموا الأمريكية|美属萨摩亚|Amerikanisch-Samoa|Samoa Americane|Amerikaans-Samoa
AT AUT Austria|Republic of Austria|Autriche|Австрия|النمسا|奥地利|Österreich|Oostenrijk|Áustria
AU AUS Australia|Australie|Австралия|أستراليا|澳大利亚|Australien|Australië|Austrália
AW ABW Aruba|Аруба|أروبا|阿鲁巴
AX ALA Åland Islands|Îles Åland|Islas Aland|Аландские о-ва|جزر آلاند|奥兰群岛|Ålandinseln|Isole Åland|Åland|Ilhas Aland
AZ AZE Azerbaijan|Republic of Azerbaijan|Azerbaïdjan|Azerbaiyán|Азербайджан|أذربيجان|阿塞拜疆|Aserbaidschan|Azerbaigian|Azerbeidzjan|Azerbaijão
BA BIH Bosnia and Herzegovina|Republic of Bosnia and Herzegovina|Bosnia & Herzegovina|Bosnie-Herzégovine|Bosnia y Herzegovina|Босния и Герцеговина|البوسنة والهرسك|波斯尼亚和黑塞哥维那|Bosnien und Herzegowina|Bosnia ed Erzegovina|Bosnië en Herzegovina|Bósnia e Herzegovina
BB BRB Barbados|Barbade|Барбадос|بربادوس|巴巴多斯
BD BGD Bangladesh|People's Republic of Bangladesh|Bangladés|Бангладеш|بنغلاديش|孟加拉国|Bangladesch
BE BEL Belgium|Kingdom of Belgium|Belgique|Bélgica|Бельгия|بلجيكا|比利时|Belgien|Belgio|België
BF BFA Burkina Faso|Буркина-Фасо|بوركينا فاسو|布基纳法索|Burquina Faso
BG BGR Bulgaria|Republic of Bulgaria|Bulgarie|Болгария|بلغاريا|保加利亚|Bulgarien|Bulgarije|Bulgária
BH BHR Bahrain|Kingdom of Bahrain|Bahreïn|Baréin|Бахрейн|البحرين|巴林|Bahrein|Barein
BI BDI Burundi|Republic of Burundi|Бурунди|بوروندي|布隆迪
BJ BEN Benin|Republic of Benin|Bénin|Benín|Бенин|بنين|贝宁
BL BLM Saint Barthélemy|St. Barthélemy|Saint-Barthélemy|San Bartolomé|Сен-Бартелеми|سان بارتليمي|圣巴泰勒米|São Bartolomeu
BM BMU Bermuda|Bermudes|Bermudas|Бермудские о-ва|برمودا|百慕大
BN BRN Brunei Darussalam|Brunei|Brunéi|Бруней|بروناي|文莱
BO BOL Bolivia, Plurinational State of|Plurinational State of Bolivia|Bolivia|Bolivie|Боливия|بوليفيا|玻利维亚|Bolivien|Bolívia
BQ BES Bonaire, Sint Eustatius and Saba|Caribbean Netherlands|Pays-Bas caribéens|Caribe neerlandés|Бонэйр, Синт-Эстатиус и Саба|هولندا الكاريبية|荷属加勒比区|Karibische Niederlande|Caraibi Olandesi|Caribisch Nederland|Países Baixos Caribenhos
BR BRA Brazil|Federative Republic of Brazil|Brésil|Brasil|Бразилия|البرازيل|巴西|Brasilien|Brasile|Brazilië
BS BHS Bahamas|Commonwealth of the Bahamas|Багамы|جزر البهاما|巴哈马|Bahama’s
BT BTN Bhutan|Kingdom of Bhutan|Bhoutan|Bután|Бутан|بوتان|不丹|Butão
BV BVT Bouvet Island|Île Bouvet|Isla Bouvet|о-в Буве|جزيرة بوفيه|布韦岛|Bouvetinsel|Isola Bouvet|Bouveteiland|Ilha Bouvet
BW BWA Botswana|Republic of Botswana|Botsuana|Ботсвана|بوتسوانا|博茨瓦纳
BY BLR Belarus|Republic of Belarus|Biélorussie|Bielorrusia|Беларусь|بيلاروس|白俄罗斯|Bielorussia|Bielorrússia
BZ BLZ Belize|Belice|Белиз|بليز|伯利兹
CA CAN Canada|Canadá|Канада|كندا|加拿大|Kanada
CC CCK Cocos (Keeling) Islands|Îles Cocos|Islas Cocos|Кокосовые о-ва|جزر كوكوس (كيلينغ)|科科斯（基林）群岛|Kokosinseln|Isole Cocos (Keeling)|Cocoseilanden|Ilhas Cocos (Keeling)
CD COD Congo, The Democratic Republic of the|Congo - Kinshasa|Congo-Kinshasa|República Democrática del Congo|Конго - Киншаса|الكونغو - كينشاسا|刚果（金）|Kongo-Kinshasa
CF CAF Central African Republic|République centrafricaine|República Centroafricana|Центрально-Африканская Республика|جمهورية أفريقيا الوسطى|中非共和国|Zentralafrikanische Republik|Repubblica Centrafricana|Centraal-Afrikaanse Republiek|República Centro-Africana
CG COG Congo|Republic of the Congo|Congo - Brazzaville|Congo-Brazzaville|Конго - Браззавиль|الكونغو - برازافيل|刚果（布）|Kongo-Brazzaville|República do Congo
CH CHE Switzerland|Swiss Confederation|Suisse|Suiza|Швейцария|سويسرا|瑞士|Schweiz|Svizzera|Zwitserland|Suíça
CI CIV Côte d'Ivoire|Republic of Côte d'Ivoire|Côte d’Ivoire|Кот-д’Ивуар|ساحل العاج|科特迪瓦|Costa d’Avorio|Ivoorkust|Costa do Marfim
CK COK Cook Islands|Îles Cook|Islas Cook|о-ва Кука|جزر كوك|库克群岛|Cookinseln|Isole Cook|Cookeilanden|Ilhas Cook
CL CHL Chile|Republic of Chile|Chili|Чили|تشيلي|智利|Cile
CM CMR Cameroon|Republic of Cameroon|Cameroun|Camerún|Камерун|الكاميرون|喀麦隆|Kamerun|Camerun|Kameroen|Camarões
CN CHN China|People's Republic of China|Chine|Китай|الصين|中国|Cina
CO COL Colombia|Republic of Colombia|Colombie|Колумбия|كولومبيا|哥伦比亚|Kolumbien|Colômbia
CR CRI Costa Rica|Republic of Costa Rica|Коста-Рика|كوستاريكا|哥斯达黎加
CU CUB Cuba|Republic of Cuba|Куба|كوبا|古巴|Kuba
CV CPV Cabo Verde|Republic of Cabo Verde|Cape Verde|Cap-Vert|Кабо-Верде|الرأس الأخضر|佛得角|Capo Verde|Kaapverdië
CW CUW Curaçao|Curazao|Кюрасао|كوراساو|库拉索
CX CXR Christmas Island|Île Christmas|Isla de Navidad|о-в Рождества|جزيرة كريسماس|圣诞岛|Weihnachtsinsel|Isola Christmas|Christmaseiland|Ilha Christmas
CY CYP Cyprus|Republic of Cyprus|Chypre|Chipre|Кипр|قبرص|塞浦路斯|Zypern|Cipro
CZ CZE Czechia|Czech Republic|Tchéquie|Chequia|Чехия|التشيك|捷克|Tschechien|Cechia|Tsjechië|Tchéquia
DE DEU Germany|Federal Republic of Germany|Allemagne|Alemania|Германия|ألمانيا|德国|Deutschland|Germania|Duitsland|Alemanha
DJ DJI Djibouti|Republic of Djibouti|Yibuti|Джибути|جيبوتي|吉布提|Dschibuti|Gibuti|Djibuti
DK DNK Denmark|Kingdom of Denmark|Danemark|Dinamarca|Дания|الدانمرك|丹麦|Dänemark|Danimarca|Denemarken
DM DMA Dominica|Commonwealth of Dominica|Dominique|Доминика|دومينيكا|多米尼克
DO DOM Dominican Republic|République dominicaine|República Dominicana|Доминиканская Республика|جمهورية الدومينيكان|多米尼加共和国|Dominikanische Republik|Repubblica Dominicana|Dominicaanse Republiek
DZ DZA Algeria|People's Democratic Republic of Algeria|Algérie|Argelia|Алжир|الجزائر|阿尔及利亚|Algerien|Algerije|Argélia
EC ECU Ecuador|Republic of Ecuador|Équateur|Эквадор|الإكوادور|厄瓜多尔|Equador
EE EST Estonia|Republic of Estonia|Estonie|Эстония|إستونيا|爱沙尼亚|Estland|Estônia
EG EGY Egypt|Arab Republic of Egypt|Égypte|Egipto|Египет|مصر|埃及|Ägypten|Egitto|Egypte|Egito
EH ESH Western Sahara|Sahara occidental|Sáhara Occidental|Западная Сахара|الصحراء الغربية|西撒哈拉|Westsahara|Sahara Occidentale|Westelijke Sahara|Saara Ocidental
ER ERI Eritrea|the State of Eritrea|Érythrée|Эритрея|إريتريا|厄立特里亚|Eritreia
ES ESP Spain|Kingdom of Spain|Espagne|España|Испания|إسبانيا|西班牙|Spanien|Spagna|Spanje|Espanha
ET ETH Ethiopia|Federal Democratic Republic of Ethiopia|Éthiopie|Etiopía|Эфиопия|إثيوبيا|埃塞俄比亚|Äthiopien|Etiopia|Ethiopië|Etiópia
FI FIN Finland|Republic of Finland|Finlande|Finlandia|Финляндия|فنلندا|芬兰|Finnland|Finlândia
FJ FJI Fiji|Republic of Fiji|Fidji|Fiyi|Фиджи|فيجي|斐济|Fidschi|Figi
FK FLK Falkland Islands (Malvinas)|Falkland Islands|Îles Malouines|Islas Malvinas|Фолклендские о-ва|جزر فوكلاند|福克兰群岛|Falklandinseln|Isole Falkland|Falklandeilanden|Ilhas Malvinas
FM FSM Micronesia, Federated States of|Federated States of Micronesia|Micronesia|Micronésie|Федеративные Штаты Микронезии|ميكرونيزيا|密克罗尼西亚|Mikronesien|Micronésia
FO FRO Faroe Islands|Îles Féroé|Islas Feroe|Фарерские о-ва|جزر فارو|法罗群岛|Färöer|Isole Fær Øer|Faeröer|Ilhas Faroé
FR FRA France|French Republic|Francia|Франция|فرنسا|法国|Frankreich|Frankrijk|França
GA GAB Gabon|Gabonese Republic|Gabón|Габон|الغابون|加蓬|Gabun|Gabão
GB GBR United Kingdom|United Kingdom of Great Britain and Northern Ireland|Royaume-Uni|Reino Unido|Великобритания|المملكة المتحدة|英国|Vereinigtes Königreich|Regno Unito|Verenigd Koninkrijk
GD GRD Grenada|Grenade|Granada|Гренада|غرينادا|格林纳达
GE GEO Georgia|Géorgie|Грузия|جورجيا|格鲁吉亚|Georgien|Georgië|Geórgia
GF GUF French Guiana|Guyane française|Guayana Francesa|Французская Гвиана|غويانا الفرنسية|法属圭亚那|Französisch-Guayana|Guyana Francese|Frans-Guyana|Guiana Francesa
GG GGY Guernsey|Guernesey|Гернси|غيرنزي|根西岛
GH GHA Ghana|Republic of Ghana|Гана|غانا|加纳|Gana
GI GIB Gibraltar|Гибралтар|جبل طارق|直布罗陀|Gibilterra
GL GRL Greenland|Groenland|Groenlandia|Гренландия|غرينلاند|格陵兰|Grönland|Groenlândia
GM GMB Gambia|Republic of the Gambia|Gambie|Гамбия|غامبيا|冈比亚|Gâmbia
GN GIN Guinea|Republic of Guinea|Guinée|Гвинея|غينيا|几内亚|Guinee|Guiné
GP GLP Guadeloupe|Guadalupe|Гваделупа|غوادلوب|瓜德罗普|Guadalupa
GQ GNQ Equatorial Guinea|Republic of Equatorial Guinea|Guinée équatoriale|Guinea Ecuatorial|Экваториальная Гвинея|غينيا الاستوائية|赤道几内亚|Äquatorialguinea|Guinea Equatoriale|Equatoriaal-Guinea|Guiné Equatorial
GR GRC Greece|Hellenic Republic|Grèce|Grecia|Греция|اليونان|希腊|Griechenland|Griekenland|Grécia
GS SGS South Georgia and the South Sandwich Islands|South Georgia & South Sandwich Islands|Géorgie du Sud-et-les Îles Sandwich du Sud|Islas Georgia del Sur y Sandwich del Sur|Южная Георгия и Южные Сандвичевы о-ва|جورجيا الجنوبية وجزر ساندويتش الجنوبية|南乔治亚和南桑威奇群岛|Südgeorgien und die Südlichen Sandwichinseln|Georgia del Sud e Sandwich Australi|Zuid-Georgia en Zuidelijke Sandwicheilanden|Ilhas Geórgia do Sul e Sandwich do Sul
GT GTM Guatemala|Republic of Guatemala|Гватемала|غواتيمالا|危地马拉
GU GUM Guam|Гуам|غوام|关岛
GW GNB Guinea-Bissau|Republic of Guinea-Bissau|Guinée-Bissau|Guinea-Bisáu|Гвинея-Бисау|غينيا بيساو|几内亚比绍|Guinee-Bissau|Guiné-Bissau
GY GUY Guyana|Republic of Guyana|Гайана|غيانا|圭亚那|Guiana
HK HKG Hong Kong|Hong Kong Special Administrative Region of China|Hong Kong SAR China|R.A.S. chinoise de Hong Kong|RAE de Hong Kong (China)|Гонконг (САР)|هونغ كونغ الصينية (منطقة إدارية خاصة)|中国香港特别行政区|Sonderverwaltungsregion Hongkong|RAS di Hong Kong|Hongkong SAR van China|Hong Kong, RAE da China
HM HMD Heard Island and McDonald Islands|Heard & McDonald Islands|Îles Heard-et-MacDonald|Islas Heard y McDonald|о-ва Херд и Макдональд|جزيرة هيرد وجزر ماكدونالد|赫德岛和麦克唐纳群岛|Heard und McDonaldinseln|Isole Heard e McDonald|Heard en McDonaldeilanden|Ilhas Heard e McDonald
HN HND Honduras|Republic of Honduras|Гондурас|هندوراس|洪都拉斯
HR HRV Croatia|Republic of Croatia|Croatie|Croacia|Хорватия|كرواتيا|克罗地亚|Kroatien|Croazia|Kroatië|Croácia
HT HTI Haiti|Republic of Haiti|Haïti|Haití|Гаити|هايتي|海地
HU HUN Hungary|Hongrie|Hungría|Венгрия|هنغاريا|匈牙利|Ungarn|Ungheria|Hongarije|Hungria
ID IDN Indonesia|Republic of Indonesia|Indonésie|Индонезия|إندونيسيا|印度尼西亚|Indonesien|Indonesië|Indonésia
IE IRL Ireland|Irlande|Irlanda|Ирландия|أيرلندا|爱尔兰|Irland|Ierland
IL ISR Israel|State of Israel|Israël|Израиль|إسرائيل|以色列|Israele
IM IMN Isle of Man|Île de Man|Isla de Man|о-в Мэн|جزيرة مان|马恩岛|Isola di Man|Ilha de Man
IN IND India|Republic of India|Inde|Индия|الهند|印度|Indien|Índia
IO IOT British Indian Ocean Territory|Territoire britannique de l’océan Indien|Territorio Británico del Océano Índico|Британская территория в Индийском океане|الإقليم البريطاني في المحيط الهندي|英属印度洋领地|Britisches Territorium im Indischen Ozean|Territorio Britannico dell’Oceano Indiano|Brits Indische Oceaanterritorium|Território Britânico do Oceano Índico
IQ IRQ Iraq|Republic of Iraq|Irak|Ирак|العراق|伊拉克|Iraque
IR IRN Iran, Islamic Republic of|Islamic Republic of Iran|Iran|Irán|Иран|إيران|伊朗|Irã
IS ISL Iceland|Republic of Iceland|Islande|Islandia|Исландия|آيسلندا|冰岛|Island|Islanda|IJsland|Islândia
IT ITA Italy|Italian Republic|Italie|Italia|Италия|إيطاليا|意大利|Italien|Italië|Itália
JE JEY Jersey|Джерси|جيرسي|泽西岛
JM JAM Jamaica|Jamaïque|Ямайка|جامايكا|牙买加|Jamaika|Giamaica
JO JOR Jordan|Hashemite Kingdom of Jordan|Jordanie|Jordania|Иордания|الأردن|约旦|Jordanien|Giordania|Jordanië|Jordânia
JP JPN Japan|Japon|Japón|Япония|اليابان|日本|Giappone|Japão
KE KEN Kenya|Republic of Kenya|Kenia|Кения|كينيا|肯尼亚|Quênia
KG KGZ Kyrgyzstan|Kyrgyz Republic|Kirghizstan|Kirguistán|Киргизия|قيرغيزستان|吉尔吉斯斯坦|Kirgisistan|Kirghizistan|Kirgizië|Quirguistão
KH KHM Cambodia|Kingdom of Cambodia|Cambodge|Camboya|Камбоджа|كمبوديا|柬埔寨|Kambodscha|Cambogia|Cambodja|Camboja
KI KIR Kiribati|Republic of Kiribati|Кирибати|كيريباتي|基里巴斯|Quiribati
KM COM Comoros|Union of the Comoros|Comores|Comoras|Коморы|جزر القمر|科摩罗|Komoren|Comore|Comoren
KN KNA Saint Kitts and Nevis|St. Kitts & Nevis|Saint-Christophe-et-Niévès|San Cristóbal y Nieves|Сент-Китс и Невис|سانت كيتس ونيفيس|圣基茨和尼维斯|St. Kitts und Nevis|Saint Kitts e Nevis|Saint Kitts en Nevis|São Cristóvão e Névis
KP PRK Korea, Democratic People's Republic of|Democratic People's Republic of Korea|North Korea|Corée du Nord|Corea del Norte|КНДР|كوريا الشمالية|朝鲜|Nordkorea|Corea del Nord|Noord-Korea|Coreia do Norte
KR KOR Korea, Republic of|South Korea|Corée du Sud|Corea del Sur|Республика Корея|كوريا الجنوبية|韩国|Südkorea|Corea del Sud|Zuid-Korea|Coreia do Sul
KW KWT Kuwait|State of Kuwait|Koweït|Кувейт|الكويت|科威特|Koeweit
KY CYM Cayman Islands|Îles Caïmans|Islas Caimán|о-ва Кайман|جزر كايمان|开曼群岛|Kaimaninseln|Isole Cayman|Kaaimaneilanden|Ilhas Cayman
KZ KAZ Kazakhstan|Republic of Kazakhstan|Kazajistán|Казахстан|كازاخستان|哈萨克斯坦|Kasachstan|Kazakistan|Kazachstan|Cazaquistão
LA LAO Lao People's Democratic Republic|Laos|Лаос|لاوس|老挝
LB LBN Lebanon|Lebanese Republic|Liban|Líbano|Ливан|لبنان|黎巴嫩|Libanon|Libano
LC LCA Saint Lucia|St. Lucia|Sainte-Lucie|Santa Lucía|Сент-Люсия|سانت لوسيا|圣卢西亚|Santa Lúcia
LI LIE Liechtenstein|Principality of Liechtenstein|Лихтенштейн|ليختنشتاين|列支敦士登
LK LKA Sri Lanka|Democratic Socialist Republic of Sri Lanka|Шри-Ланка|سريلانكا|斯里兰卡
LR LBR Liberia|Republic of Liberia|Либерия|ليبيريا|利比里亚|Libéria
LS LSO Lesotho|Kingdom of Lesotho|Lesoto|Лесото|ليسوتو|莱索托
LT LTU Lithuania|Republic of Lithuania|Lituanie|Lituania|Литва|ليتوانيا|立陶宛|Litauen|Litouwen|Lituânia
LU LUX Luxembourg|Grand Duchy of Luxembourg|Luxemburgo|Люксембург|لوكسمبورغ|卢森堡|Luxemburg|Lussemburgo
LV LVA Latvia|Republic of Latvia|Lettonie|Letonia|Латвия|لاتفيا|拉脱维亚|Lettland|Lettonia|Letland|Letônia
LY LBY Libya|Libye|Libia|Ливия|ليبيا|利比亚|Libyen|Libië|Líbia
MA MAR Morocco|Kingdom of Morocco|Maroc|Marruecos|Марокко|المغرب|摩洛哥|Marokko|Marocco|Marrocos
MC MCO Monaco|Principality of Monaco|Mónaco|Монако|موناكو|摩纳哥|Mônaco
MD MDA Moldova, Republic of|Republic of Moldova|Moldova|Moldavie|Moldavia|Молдова|مولدوفا|摩尔多瓦|Republik Moldau|Moldavië|Moldávia
ME MNE Montenegro|Monténégro|Черногория|الجبل الأسود|黑山
MF MAF Saint Martin (French part)|St. Martin|Saint-Martin|San Martín|Сен-Мартен|سان مارتن|法属圣马丁|Saint Martin|São Martinho
MG MDG Madagascar|Republic of Madagascar|Мадагаскар|مدغشقر|马达加斯加|Madagaskar
MH MHL Marshall Islands|Republic of the Marshall Islands|Îles Marshall|Islas Marshall|Маршалловы о-ва|جزر مارشال|马绍尔群岛|Marshallinseln|Isole Marshall|Marshalleilanden|Ilhas Marshall
MK MKD North Macedonia|Republic of North Macedonia|Macédoine du Nord|Macedonia del Norte|Северная Македония|مقدونيا الشمالية|北马其顿|Nordmazedonien|Macedonia del Nord|Noord-Macedonië|Macedônia do Norte
ML MLI Mali|Republic of Mali|Мали|مالي|马里
MM MMR Myanmar|Republic of Myanmar|Myanmar (Burma)|Myanmar (Birmanie)|Myanmar (Birmania)|Мьянма (Бирма)|ميانمار (بورما)|缅甸|Myanmar (Birma)|Mianmar (Birmânia)
MN MNG Mongolia|Mongolie|Монголия|منغوليا|蒙古|Mongolei|Mongolië|Mongólia
MO MAC Macao|Macao Special Administrative Region of China|Macao SAR China|R.A.S. chinoise de Macao|RAE de Macao (China)|Макао (САР)|منطقة ماكاو الإدارية الخاصة|中国澳门特别行政区|Sonderverwaltungsregion Macau|RAS di Macao|Macau SAR van China|Macau, RAE da China
MP MNP Northern Mariana Islands|Commonwealth of the Northern Mariana Islands|Îles Mariannes du Nord|Islas Marianas del Norte|Северные Марианские о-ва|جزر ماريانا الشمالية|北马里亚纳群岛|Nördliche Marianen|Isole Marianne Settentrionali|Noordelijke Marianen|Ilhas Marianas do Norte
MQ MTQ Martinique|Martinica|Мартиника|جزر المارتينيك|马提尼克
MR MRT Mauritania|Islamic Republic of Mauritania|Mauritanie|Мавритания|موريتانيا|毛里塔尼亚|Mauretanien|Mauritanië|Mauritânia
MS MSR Montserrat|Монтсеррат|مونتسرات|蒙特塞拉特
MT MLT Malta|Republic of Malta|Malte|Мальта|مالطا|马耳他
MU MUS Mauritius|Republic of Mauritius|Maurice|Mauricio|Маврикий|موريشيوس|毛里求斯|Maurício
MV MDV Maldives|Republic of Maldives|Maldivas|Мальдивы|جزر المالديف|马尔代夫|Malediven|Maldive|Maldiven
MW MWI Malawi|Republic of Malawi|Malaui|Малави|ملاوي|马拉维
MX MEX Mexico|United Mexican States|Mexique|México|Мексика|المكسيك|墨西哥|Mexiko|Messico
MY MYS Malaysia|Malaisie|Malasia|Малайзия|ماليزيا|马来西亚|Maleisië|Malásia
MZ MOZ Mozambique|Republic of Mozambique|Мозамбик|موزمبيق|莫桑比克|Mosambik|Mozambico|Moçambique
NA NAM Namibia|Republic of Namibia|Namibie|Намибия|ناميبيا|纳米比亚|Namibië|Namíbia
NC NCL New Caledonia|Nouvelle-Calédonie|Nueva Caledonia|Новая Каледония|كاليدونيا الجديدة|新喀里多尼亚|Neukaledonien|Nuova Caledonia|Nieuw-Caledonië|Nova Caledônia
NE NER Niger|Republic of the Niger|Níger|Нигер|النيجر|尼日尔
NF NFK Norfolk Island|Île Norfolk|Isla Norfolk|о-в Норфолк|جزيرة نورفولك|诺福克岛|Norfolkinsel|Isola Norfolk|Norfolk|Ilha Norfolk
NG NGA Nigeria|Federal Republic of Nigeria|Нигерия|نيجيريا|尼日利亚|Nigéria
NI NIC Nicaragua|Republic of Nicaragua|Никарагуа|نيكاراغوا|尼加拉瓜|Nicarágua
NL NLD Netherlands|Kingdom of the Netherlands|Pays-Bas|Países Bajos|Нидерланды|هولندا|荷兰|Niederlande|Paesi Bassi|Nederland|Países Baixos
NO NOR Norway|Kingdom of Norway|Norvège|Noruega|Норвегия|النرويج|挪威|Norwegen|Norvegia|Noorwegen
NP NPL Nepal|Federal Democratic Republic of Nepal|Népal|Непал|نيبال|尼泊尔
NR NRU Nauru|Republic of Nauru|Науру|ناورو|瑙鲁
NU NIU Niue|Ниуэ|نيوي|纽埃
NZ NZL New Zealand|Nouvelle-Zélande|Nueva Zelanda|Новая Зеландия|نيوزيلندا|新西兰|Neuseeland|Nuova Zelanda|Nieuw-Zeeland|Nova Zelândia
OM OMN Oman|Sultanate of Oman|Omán|Оман|عُمان|阿曼|Omã
PA PAN Panama|Republic of Panama|Panamá|Панама|بنما|巴拿马
PE PER Peru|Republic of Peru|Pérou|Perú|Перу|بيرو|秘鲁|Perù
PF PYF French Polynesia|Polynésie française|Polinesia Francesa|Французская Полинезия|بولينيزيا الفرنسية|法属波利尼西亚|Französisch-Polynesien|Polinesia Francese|Frans-Polynesië|Polinésia Francesa
PG PNG Papua New Guinea|Independent State of Papua New Guinea|Papouasie-Nouvelle-Guinée|Papúa Nueva Guinea|Папуа — Новая Гвинея|بابوا غينيا الجديدة|巴布亚新几内亚|Papua-Neuguinea|Papua Nuova Guinea|Papoea-Nieuw-Guinea|Papua-Nova Guiné
PH PHL Philippines|Republic of the Philippines|Filipinas|Филиппины|الفلبين|菲律宾|Philippinen|Filippine|Filipijnen
PK PAK Pakistan|Islamic Republic of Pakistan|Pakistán|Пакистан|باكستان|巴基斯坦|Paquistão
PL POL Poland|Republic of Poland|Pologne|Polonia|Польша|بولندا|波兰|Polen|Polônia
PM SPM Saint Pierre and Miquelon|St. Pierre & Miquelon|Saint-Pierre-et-Miquelon|San Pedro y Miquelón|Сен-Пьер и Микелон|سان بيير ومكويلون|圣皮埃尔和密克隆群岛|St. Pierre und Miquelon|Saint-Pierre e Miquelon|Saint-Pierre en Miquelon|São Pedro e Miquelão
PN PCN Pitcairn|Pitcairn Islands|Îles Pitcairn|Islas Pitcairn|о-ва Питкэрн|جزر بيتكيرن|皮特凯恩群岛|Pitcairninseln|Isole Pitcairn|Pitcairneilanden|Ilhas Pitcairn
PR PRI Puerto Rico|Porto Rico|Пуэрто-Рико|بورتوريكو|波多黎各|Portorico
PS PSE Palestine, State of|the State of Palestine|Palestinian Territories|Territoires palestiniens|Territorios Palestinos|Палестинские территории|الأراضي الفلسطينية|巴勒斯坦领土|Palästinensische Autonomiegebiete|Territori Palestinesi|Palestijnse gebieden|Territórios palestinos
PT PRT Portugal|Portuguese Republic|Португалия|البرتغال|葡萄牙|Portogallo
PW PLW Palau|Republic of Palau|Palaos|Палау|بالاو|帕劳
PY PRY Paraguay|Republic of Paraguay|Парагвай|باراغواي|巴拉圭|Paraguai
QA QAT Qatar|State of Qatar|Catar|Катар|قطر|卡塔尔|Katar
RE REU Réunion|La Réunion|Reunión|Реюньон|روينيون|留尼汪|Riunione|Reunião
RO ROU Romania|Roumanie|Rumanía|Румыния|رومانيا|罗马尼亚|Rumänien|Roemenië|Romênia
RS SRB Serbia|Republic of Serbia|Serbie|Сербия|صربيا|塞尔维亚|Serbien|Servië|Sérvia
RU RUS Russian Federation|Russia|Russie|Rusia|Россия|روسيا|俄罗斯|Russland|Rusland|Rússia
RW RWA Rwanda|Rwandese Republic|Ruanda|Руанда|رواندا|卢旺达
SA SAU Saudi Arabia|Kingdom of Saudi Arabia|Arabie saoudite|Arabia Saudí|Саудовская Аравия|المملكة العربية السعودية|沙特阿拉伯|Saudi-Arabien|Arabia Saudita|Saoedi-Arabië|Arábia Saudita
SB SLB Solomon Islands|Îles Salomon|Islas Salomón|Соломоновы о-ва|جزر سليمان|所罗门群岛|Salomonen|Isole Salomone|Salomonseilanden|Ilhas Salomão
SC SYC Seychelles|Republic of Seychelles|Сейшельские о-ва|سيشل|塞舌尔|Seychellen|Seicheles
SD SDN Sudan|Republic of the Sudan|Soudan|Sudán|Судан|السودان|苏丹|Soedan|Sudão
SE SWE Sweden|Kingdom of Sweden|Suède|Suecia|Швеция|السويد|瑞典|Schweden|Svezia|Zweden|Suécia
SG SGP Singapore|Republic of Singapore|Singapour|Singapur|Сингапур|سنغافورة|新加坡|Singapura
SH SHN Saint Helena, Ascension and Tristan da Cunha|St. Helena|Sainte-Hélène|Santa Elena|о-в Св. Елены|سانت هيلينا|圣赫勒拿|Sant’Elena|Sint-Helena|Santa Helena
SI SVN Slovenia|Republic of Slovenia|Slovénie|Eslovenia|Словения|سلوفينيا|斯洛文尼亚|Slowenien|Slovenië|Eslovênia
SJ SJM Svalbard and Jan Mayen|Svalbard & Jan Mayen|Svalbard et Jan Mayen|Svalbard y Jan Mayen|Шпицберген и Ян-Майен|سفالبارد وجان ماين|斯瓦尔巴和扬马延|Spitzbergen und Jan Mayen|Svalbard e Jan Mayen|Spitsbergen en Jan Mayen
SK SVK Slovakia|Slovak Republic|Slovaquie|Eslovaquia|Словакия|سلوفاكيا|斯洛伐克|Slowakei|Slovacchia|Slowakije|Eslováquia
SL SLE Sierra Leone|Republic of Sierra Leone|Sierra Leona|Сьерра-Леоне|سيراليون|塞拉利昂|Serra Leoa
SM SMR San Marino|Republic of San Marino|Saint-Marin|Сан-Марино|سان مارينو|圣马力诺
SN SEN Senegal|Republic of Senegal|Sénégal|Сенегал|السنغال|塞内加尔
SO SOM Somalia|Federal Republic of Somalia|Somalie|Сомали|الصومال|索马里|Somalië|Somália
SR SUR Suriname|Republic of Suriname|Surinam|Суринам|سورينام|苏里南
SS SSD South Sudan|Republic of South Sudan|Soudan du Sud|Sudán del Sur|Южный Судан|جنوب السودان|南苏丹|Südsudan|Sud Sudan|Zuid-Soedan|Sudão do Sul
ST STP Sao Tome and Principe|Democratic Republic of Sao Tome and Principe|São Tomé & Príncipe|Sao Tomé-et-Principe|Santo Tomé y Príncipe|Сан-Томе и Принсипи|ساو تومي وبرينسيبي|圣多美和普林西比|São Tomé und Príncipe|São Tomé e Príncipe|Sao Tomé en Principe
SV SLV El Salvador|Republic of El Salvador|Salvador|Сальвадор|السلفادور|萨尔瓦多
SX SXM Sint Maarten (Dutch part)|Sint Maarten|Saint-Martin (partie néerlandaise)|Синт-Мартен|سانت مارتن|荷属圣马丁|Sint-Maarten
SY SYR Syrian Arab Republic|Syria|Syrie|Siria|Сирия|سوريا|叙利亚|Syrien|Syrië|Síria
SZ SWZ Eswatini|Kingdom of Eswatini|Esuatini|Эсватини|إسواتيني|斯威士兰|Essuatíni
TC TCA Turks and Caicos Islands|Turks & Caicos Islands|Îles Turques-et-Caïques|Islas Turcas y Caicos|Тёркс и Кайкос|جزر توركس وكايكوس|特克斯和凯科斯群岛|Turks- und Caicosinseln|Isole Turks e Caicos|Turks- en Caicoseilanden|Ilhas Turcas e Caicos
TD TCD Chad|Republic of Chad|Tchad|Чад|تشاد|乍得|Tschad|Ciad|Tsjaad|Chade
TF ATF French Southern Territories|Terres australes françaises|Territorios Australes Franceses|Французские Южные территории|الأقاليم الجنوبية الفرنسية|法属南部领地|Französische Süd- und Antarktisgebiete|Terre Australi Francesi|Franse Gebieden in de zuidelijke Indische Oceaan|Territórios Franceses do Sul
TG TGO Togo|Togolese Republic|Того|توغو|多哥
TH THA Thailand|Kingdom of Thailand|Thaïlande|Tailandia|Таиланд|تايلاند|泰国|Thailandia|Tailândia
TJ TJK Tajikistan|Republic of Tajikistan|Tadjikistan|Tayikistán|Таджикистан|طاجيكستان|塔吉克斯坦|Tadschikistan|Tagikistan|Tadzjikistan|Tadjiquistão
TK TKL Tokelau|Токелау|توكيلاو|托克劳
TL TLS Timor-Leste|Democratic Republic of Timor-Leste|Timor oriental|Восточный Тимор|تيمور - ليشتي|东帝汶|Timor Est|Oost-Timor
TM TKM Turkmenistan|Turkménistan|Turkmenistán|Туркменистан|تركمانستان|土库曼斯坦|Turcomenistão
TN TUN Tunisia|Republic of Tunisia|Tunisie|Túnez|Тунис|تونس|突尼斯|Tunesien|Tunesië|Tunísia
TO TON Tonga|Kingdom of Tonga|Тонга|تونغا|汤加
TR TUR Türkiye|Republic of Türkiye|Turquie|Turquía|Турция|تركيا|土耳其|Türkei|Turchia|Turkije|Turquia
TT TTO Trinidad and Tobago|Republic of Trinidad and Tobago|Trinidad & Tobago|Trinité-et-Tobago|Trinidad y Tobago|Тринидад и Тобаго|ترينيداد وتوباغو|特立尼达和多巴哥|Trinidad und Tobago|Trinidad e Tobago|Trinidad en Tobago
TV TUV Tuvalu|Тувалу|توفالو|图瓦卢
TW TWN Taiwan, Province of China|Taiwan|Taïwan|Taiwán|Тайвань|تايوان|台湾
TZ TZA Tanzania, United Republic of|United Republic of Tanzania|Tanzania|Tanzanie|Танзания|تنزانيا|坦桑尼亚|Tansania|Tanzânia
UA UKR Ukraine|Ucrania|Украина|أوكرانيا|乌克兰|Ucraina|Oekraïne|Ucrânia
UG UGA Uganda|Republic of Uganda|Ouganda|Уганда|أوغندا|乌干达|Oeganda
UM UMI United States Minor Outlying Islands|U.S. Outlying Islands|Îles mineures éloignées des États-Unis|Islas menores alejadas de EE. UU.|Внешние малые о-ва (США)|جزر الولايات المتحدة النائية|美国本土外小岛屿|Amerikanische Überseeinseln|Isole Minori Esterne degli Stati Uniti|Kleine afgelegen eilanden van de Verenigde Staten|Ilhas Menores Distantes dos EUA
US USA United States|United States of America|États-Unis|Estados Unidos|Соединенные Штаты|الولايات المتحدة|美国|Vereinigte Staaten|Stati Uniti|Verenigde Staten
UY URY Uruguay|Eastern Republic of Uruguay|Уругвай|أورغواي|乌拉圭|Uruguai
UZ UZB Uzbekistan|Republic of Uzbekistan|Ouzbékistan|Uzbekistán|Узбекистан|أوزبكستان|乌兹别克斯坦|Usbekistan|Oezbekistan|Uzbequistão
VA VAT Holy See (Vatican City State)|Vatican City|État de la Cité du Vatican|Ciudad del Vaticano|Ватикан|الفاتيكان|梵蒂冈|Vatikanstadt|Città del Vaticano|Vaticaanstad|Cidade do Vaticano
VC VCT Saint Vincent and the Grenadines|St. Vincent & Grenadines|Saint-Vincent-et-les Grenadines|San Vicente y las Granadinas|Сент-Винсент и Гренадины|سانت فنسنت وجزر غرينادين|圣文森特和格林纳丁斯|St. Vincent und die Grenadinen|Saint Vincent e Grenadine|Saint Vincent en de Grenadines|São Vicente e Granadinas
VE VEN Venezuela, Bolivarian Republic of|Bolivarian Republic of Venezuela|Venezuela|Венесуэла|فنزويلا|委内瑞拉
VG VGB Virgin Islands, British|British Virgin Islands|Îles Vierges britanniques|Islas Vírgenes Británicas|Виргинские о-ва (Великобритания)|جزر فيرجن البريطانية|英属维尔京群岛|Britische Jungferninseln|Isole Vergini Britanniche|Britse Maagdeneilanden|Ilhas Virgens Britânicas
VI VIR Virgin Islands, U.S.|Virgin Islands of the United States|U.S. Virgin Islands|Îles Vierges des États-Unis|Islas Vírgenes de EE. UU.|Виргинские о-ва (США)|جزر فيرجن الأمريكية|美属维尔京群岛|Amerikanische Jungferninseln|Isole Vergini Americane|Amerikaanse Maagdeneilanden|Ilhas Virgens Americanas
VN VNM Viet Nam|Socialist Republic of Viet Nam|Vietnam|Viêt Nam|Вьетнам|فيتنام|越南|Vietnã
VU VUT Vanuatu|Republic of Vanuatu|Вануату|فانواتو|瓦努阿图
WF WLF Wallis and Futuna|Wallis & Futuna|Wallis-et-Futuna|Wallis y Futuna|Уоллис и Футуна|جزر والس وفوتونا|瓦利斯和富图纳|Wallis und Futuna|Wallis e Futuna|Wallis en Futuna
WS WSM Samoa|Independent State of Samoa|Самоа|ساموا|萨摩亚
YE YEM Yemen|Republic of Yemen|Yémen|Йемен|اليمن|也门|Jemen|Iêmen
YT MYT Mayotte|Майотта|مايوت|马约特
ZA ZAF South Africa|Republic of South Africa|Afrique du Sud|Sudáfrica|Южно-Африканская Республика|جنوب أفريقيا|南非|Südafrika|Sudafrica|Zuid-Afrika|África do Sul
ZM ZMB Zambia|Republic of Zambia|Zambie|Замбия|زامبيا|赞比亚|Sambia|Zâmbia
ZW ZWE Zimbabwe|Republic of Zimbabwe|Zimbabue|Зимбабве|زيمبابوي|津巴布韦|Simbabwe|Zimbábue
"""

_LANGUAGE_ROWS = """\
aa aar - Afar|Qafar|afar
ab abk - Abkhazian|Аԥсшәа|abkhaze|abjasio|Abchasisch
ae ave - Avestan|avestique|avéstico|Avestisch
af afr - Afrikaans|afrikaans|afrikáans
ak aka - Akan|akan
am amh - Amharic|አማርኛ|amharique|amárico|Amharisch
an arg - Aragonese|aragonés|aragonais|Aragonesisch
ar ara - Arabic|العربية|arabe|árabe|Arabisch
as asm - Assamese|অসমীয়া|assamais|asamés|Assamesisch
av ava - Avaric|avar|Awarisch
ay aym - Aymara|aymara|aimara
az aze - Azerbaijani|azərbaycan|azerbaïdjanais|azerbaiyano|Aserbaidschanisch
ba bak - Bashkir|башҡорт теле|bachkir|baskir|Baschkirisch
be bel - Belarusian|беларуская|biélorusse|bielorruso|Belarussisch
bg bul - Bulgarian|български|bulgare|búlgaro|Bulgarisch
bi bis - Bislama|bichelamar|bislama
bm bam - Bambara|bamanakan|bambara
bn ben - Bengali|বাংলা|Bangla|bengali|bengalí|Bengalisch
bo bod tib Tibetan|བོད་སྐད་|tibétain|tibetano|Tibetisch
br bre - Breton|brezhoneg|breton|bretón|Bretonisch
bs bos - Bosnian|bosanski|bosniaque|bosnio|Bosnisch
ca cat - Catalan|català|catalan|catalán|Katalanisch
ce che - Chechen|нохчийн|tchétchène|checheno|Tschetschenisch
ch cha - Chamorro|chamorro
co cos - Corsican|corsu|corse|corso|Korsisch
cr cre - Cree|cree
cs ces cze Czech|čeština|tchèque|checo|Tschechisch
cu chu - Church Slavic|церковнослове́нскїй|slavon d’église|eslavo eclesiástico|Kirchenslawisch
cv chv - Chuvash|чӑваш|tchouvache|chuvasio|Tschuwaschisch
cy cym wel Welsh|Cymraeg|gallois|galés|Walisisch
da dan - Danish|dansk|danois|danés|Dänisch
de deu ger German|Deutsch|allemand|alemán
dv div - Divehi|ދިވެހިބަސް|maldivien|divehi|Dhivehi
dz dzo - Dzongkha|རྫོང་ཁ|dzongkha
ee ewe - Ewe|eʋegbe|éwé|ewé
el ell gre Modern Greek (1453-)|Ελληνικά|Greek|grec|griego|Griechisch
en eng - English|anglais|inglés|Englisch
eo epo - Esperanto|espéranto|esperanto
es spa - Spanish|español|espagnol|Spanisch
et est - Estonian|eesti|estonien|estonio|Estnisch
eu eus baq Basque|euskara|basque|euskera|Baskisch
fa fas per Persian|فارسی|persan|persa|Persisch
ff ful - Fulah|Pulaar|Fula|peul|fula|Ful
fi fin - Finnish|suomi|finnois|finés|Finnisch
fj fij - Fijian|fidjien|fiyiano|Fidschi
fo fao - Faroese|føroyskt|féroïen|feroés|Färöisch
fr fra fre French|français|francés|Französisch
fy fry - Western Frisian|Frysk|frison occidental|frisón occidental|Westfriesisch
ga gle - Irish|Gaeilge|irlandais|irlandés|Irisch
gd gla - Scottish Gaelic|Gàidhlig|gaélique écossais|gaélico escocés|Gälisch (Schottland)
gl glg - Galician|galego|galicien|gallego|Galicisch
gn grn - Guarani|avañe’ẽ|guarani|guaraní|Guaraní
gu guj - Gujarati|ગુજરાતી|goudjarati|guyaratí
gv glv - Manx|Gaelg|mannois|manés
ha hau - Hausa|haoussa|hausa|Haussa
he heb - Hebrew|עברית|hébreu|hebreo|Hebräisch
hi hin - Hindi|हिन्दी|hindi
ho hmo - Hiri Motu|hiri motu|Hiri-Motu
hr hrv - Croatian|hrvatski|croate|croata|Kroatisch
ht hat - Haitian|Kreyòl Ayisyen|Haitian Creole|créole haïtien|criollo haitiano|Haiti-Kreolisch
hu hun - Hungarian|magyar|hongrois|húngaro|Ungarisch
hy hye arm Armenian|հայերեն|arménien|armenio|Armenisch
hz her - Herero|héréro|herero
ia ina - Interlingua (International Auxiliary Language Association)|interlingua|Interlingua
id ind - Indonesian|Indonesia|indonésien|indonesio|Indonesisch
ie ile - Interlingue|interlingue
ig ibo - Igbo|igbo
ii iii - Sichuan Yi|ꆈꌠꉙ|yi du Sichuan|yi de Sichuán|Yi
ik ipk - Inupiaq|inupiaq|Inupiak
io ido - Ido|ido
is isl ice Icelandic|íslenska|islandais|islandés|Isländisch
it ita - Italian|italiano|italien|Italienisch
iu iku - Inuktitut|ᐃᓄᒃᑎᑐᑦ|inuktitut
ja jpn - Japanese|日本語|japonais|japonés|Japanisch
jv jav - Javanese|Jawa|javanais|javanés|Javanisch
ka kat geo Georgian|ქართული|géorgien|georgiano|Georgisch
kg kon - Kongo|kikongo|kongo|Kongolesisch
ki kik - Kikuyu|Gikuyu|kikuyu
kj kua - Kuanyama|kuanyama|Kwanyama
kk kaz - Kazakh|қазақ тілі|kazakh|kazajo|Kasachisch
kl kal - Kalaallisut|kalaallisut|groenlandais|groenlandés|Grönländisch
km khm - Khmer|ខ្មែរ|khmer|jemer
kn kan - Kannada|ಕನ್ನಡ|kannada|canarés
ko kor - Korean|한국어|coréen|coreano|Koreanisch
kr kau - Kanuri|kanouri|kanuri
ks kas - Kashmiri|کٲشُر|cachemiri|cachemir|Kaschmiri
ku kur - Kurdish|kurdî (kurmancî)|kurde|kurdo|Kurdisch
kv kom - Komi|komi
kw cor - Cornish|kernewek|cornique|córnico|Kornisch
ky kir - Kirghiz|кыргызча|Kyrgyz|kirghize|kirguís|Kirgisisch
la lat - Latin|Latina|latin|latín|Latein
lb ltz - Luxembourgish|Lëtzebuergesch|luxembourgeois|luxemburgués|Luxemburgisch
lg lug - Ganda|Luganda|ganda
li lim - Limburgan|Limburgish|limbourgeois|limburgués|Limburgisch
ln lin - Lingala|lingála|lingala
lo lao - Lao|ລາວ|lao|Laotisch
lt lit - Lithuanian|lietuvių|lituanien|lituano|Litauisch
lu lub - Luba-Katanga|Tshiluba|luba-katanga (kiluba)|luba-katanga
lv lav - Latvian|latviešu|letton|letón|Lettisch
mg mlg - Malagasy|malgache
mh mah - Marshallese|marshallais|marshalés|Marschallesisch
mi mri mao Maori|Māori|maori|maorí
mk mkd mac Macedonian|македонски|macédonien|macedonio|Mazedonisch
ml mal - Malayalam|മലയാളം|malayalam|malayálam
mn mon - Mongolian|монгол|mongol|Mongolisch
mr mar - Marathi|मराठी|marathi|maratí
ms msa may Malay (macrolanguage)|Melayu|Malay|malais|malayo|Malaiisch
mt mlt - Maltese|Malti|maltais|maltés|Maltesisch
my mya bur Burmese|မြန်မာ|birman|birmano|Birmanisch
na nau - Nauru|nauruan|nauruano|Nauruisch
nb nob - Norwegian Bokmål|norsk bokmål|norvégien bokmål|noruego bokmal|Norwegisch (Bokmål)
nd nde - North Ndebele|isiNdebele|ndébélé du Nord|ndebele septentrional|Nord-Ndebele
ne nep - Nepali (macrolanguage)|नेपाली|Nepali|népalais|nepalí|Nepalesisch
ng ndo - Ndonga|ndonga
nl nld dut Dutch|Nederlands|néerlandais|neerlandés|Niederländisch
nn nno - Norwegian Nynorsk|norsk nynorsk|norvégien nynorsk|noruego nynorsk|Norwegisch (Nynorsk)
no nor - Norwegian|norsk|norvégien|noruego|Norwegisch
nr nbl - South Ndebele|isiNdebele|ndébélé du Sud|ndebele meridional|Süd-Ndebele
nv nav - Navajo|Diné Bizaad|navajo
ny nya - Chichewa|Nyanja|chewa|nyanja
oc oci - Occitan (post 1500)|occitan|Occitan|occitano|Okzitanisch
oj oji - Ojibwa|ojibwa
om orm - Oromo|Oromoo|oromo
or ori - Oriya (macrolanguage)|ଓଡ଼ିଆ|Odia|odia|oriya|Oriya
os oss - Ossetian|ирон|Ossetic|ossète|osético|Ossetisch
pa pan - Panjabi|ਪੰਜਾਬੀ|Punjabi|pendjabi|punyabí
pi pli - Pali|pali
pl pol - Polish|polski|polonais|polaco|Polnisch
ps pus - Pushto|پښتو|Pashto|pachto|pastún|Paschtu
pt por - Portuguese|português|portugais|portugués|Portugiesisch
qu que - Quechua|Runasimi|quechua
rm roh - Romansh|rumantsch|romanche|Rätoromanisch
rn run - Rundi|Ikirundi|roundi|kirundi
ro ron rum Romanian|română|roumain|rumano|Rumänisch
ru rus - Russian|русский|russe|ruso|Russisch
rw kin - Kinyarwanda|Ikinyarwanda|kinyarwanda
sa san - Sanskrit|संस्कृत भाषा|sanskrit|sánscrito
sc srd - Sardinian|sardu|sarde|sardo|Sardisch
sd snd - Sindhi|سنڌي|sindhi|sindi
se sme - Northern Sami|davvisámegiella|same du Nord|sami septentrional|Nordsamisch
sg sag - Sango|Sängö|sango
sh hbs - Serbo-Croatian|serbo-croate|serbocroata|Serbo-Kroatisch
si sin - Sinhala|සිංහල|cingalais|cingalés|Singhalesisch
sk slk slo Slovak|slovenčina|slovaque|eslovaco|Slowakisch
sl slv - Slovenian|slovenščina|slovène|esloveno|Slowenisch
sm smo - Samoan|samoan|samoano|Samoanisch
sn sna - Shona|chiShona|shona
so som - Somali|Soomaali|somali|somalí
sq sqi alb Albanian|shqip|albanais|albanés|Albanisch
sr srp - Serbian|српски|serbe|serbio|Serbisch
ss ssw - Swati|siSwati|swati|suazi|Swazi
st sot - Southern Sotho|Sesotho|sotho du Sud|sotho meridional|Süd-Sotho
su sun - Sundanese|Basa Sunda|soundanais|sundanés|Sundanesisch
sv swe - Swedish|svenska|suédois|sueco|Schwedisch
sw swa - Swahili (macrolanguage)|Kiswahili|Swahili|swahili|suajili|Suaheli
ta tam - Tamil|தமிழ்|tamoul|tamil
te tel - Telugu|తెలుగు|télougou|telugu
tg tgk - Tajik|тоҷикӣ|tadjik|tayiko|Tadschikisch
th tha - Thai|ไทย|thaï|tailandés|Thailändisch
ti tir - Tigrinya|ትግርኛ|tigrigna|tigriña
tk tuk - Turkmen|türkmen dili|turkmène|turcomano|Turkmenisch
tl tgl - Tagalog|tagalog|tagalo
tn tsn - Tswana|Setswana|tswana|setsuana
to ton - Tonga (Tonga Islands)|lea fakatonga|Tongan|tongien|tongano|Tongaisch
tr tur - Turkish|Türkçe|turc|turco|Türkisch
ts tso - Tsonga|Xitsonga|tsonga
tt tat - Tatar|татар|tatar|tártaro|Tatarisch
tw twi - Twi|twi
ty tah - Tahitian|tahitien|tahitiano|Tahitisch
ug uig - Uighur|ئۇيغۇرچە|Uyghur|ouïghour|uigur|Uigurisch
uk ukr - Ukrainian|українська|ukrainien|ucraniano|Ukrainisch
ur urd - Urdu|اردو|ourdou|urdu
uz uzb - Uzbek|o‘zbek|ouzbek|uzbeko|Usbekisch
ve ven - Venda|Tshivenḓa|venda
vi vie - Vietnamese|Tiếng Việt|vietnamien|vietnamita|Vietnamesisch
vo vol - Volapük|volapük
wa wln - Walloon|walon|wallon|valón|Wallonisch
wo wol - Wolof|wolof|wólof
xh xho - Xhosa|IsiXhosa|xhosa
yi yid - Yiddish|ייִדיש|yiddish|yidis|Jiddisch
yo yor - Yoruba|Èdè Yorùbá|yoruba
za zha - Zhuang|Vahcuengh|zhuang
zh zho chi Chinese|中文|chinois|chino|Chinesisch
zu zul - Zulu|isiZulu|zoulou|zulú
"""


# Codes sources use that are not ISO 3166-1 alpha-2/alpha-3 but say one country clearly.
_COUNTRY_ALIASES = {
    "UK": "GB", "EL": "GR", "FXX": "FR",
    # ISO 3166-2:GB parts, as UK GEMINI records give them with an ISO 3166 authority
    "ENG": "GB", "SCT": "GB", "WLS": "GB", "NIR": "GB",
}
_COUNTRY_NAME_ALIASES = {
    "u k": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "u s a": "US", "u s": "US", "america": None,
}
# Language values that are not a language of the resource.
_NOT_LANGUAGES = {"und", "mul", "zxx", "mis", "other", "others", "n a", "na", "none", "unknown", "xx"}
_SUBDIVISION = re.compile(r"^([A-Z]{2})-[A-Z0-9]{1,3}$")
_LANG_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


@lru_cache(maxsize=1)
def _countries() -> tuple[dict, dict, dict]:
    alpha2, alpha3, names = {}, {}, {}
    ambiguous = set()
    for row in _COUNTRY_ROWS.splitlines():
        a2, a3, rest = row.split(" ", 2)
        alpha2[a2] = a2
        alpha3[a3] = a2
        for name in rest.split("|"):
            key = fold(name)
            if key in names and names[key] != a2:
                ambiguous.add(key)
            names[key] = a2
    for key in ambiguous:
        names.pop(key, None)
    for key, a2 in _COUNTRY_NAME_ALIASES.items():
        if a2:
            names.setdefault(key, a2)
        else:
            names.pop(key, None)
    return alpha2, alpha3, names


@lru_cache(maxsize=1)
def _languages() -> tuple[set, dict, dict]:
    two, three, names = set(), {}, {}
    ambiguous = set()
    for row in _LANGUAGE_ROWS.splitlines():
        a2, t, b, rest = row.split(" ", 3)
        two.add(a2)
        three[t] = a2
        if b != "-":
            three[b] = a2
        for name in rest.split("|"):
            key = fold(name)
            if key in names and names[key] != a2:
                ambiguous.add(key)
            names[key] = a2
    for key in ambiguous:
        names.pop(key, None)
    return two, three, names


def country_code(value) -> str | None:
    """ISO alpha-2 for a country code (alpha-2, alpha-3, ISO 3166-2 subdivision) written in capitals."""
    t = clean(value)
    alpha2, alpha3, _ = _countries()
    if t in alpha2:
        return t
    if t in alpha3:
        return alpha3[t]
    if t in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[t]
    m = _SUBDIVISION.match(t)
    if m and m.group(1) in alpha2:
        return m.group(1)
    return None


def country_name(value) -> str | None:
    """ISO alpha-2 for a country's name in one of the ten languages of the table (whole value only)."""
    key = fold(value)
    if key.startswith("the "):
        key = key[4:]
    return _countries()[2].get(key) if key else None


def country(value) -> str | None:
    """ISO alpha-2 for a country code or name, or for a URI whose last part is one; None when unclear."""
    t = clean(value)
    if not t:
        return None
    if "://" in t:
        return country_in_uri(t)
    return country_code(t) or country_name(t)


def country_in_uri(uri: str) -> str | None:
    """.../authority/country/KEN, .../countries/KE, .../Pais/España: the country a URI's last part names.

    Only URIs whose path says it is about countries are read (a bare code at the end of any URI is not).
    """
    try:
        path = unquote(urlsplit(clean(uri)).path)
    except ValueError:
        return None
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2:
        return None
    parent = fold(parts[-2])
    if not any(w in parent for w in ("country", "countries", "pais", "paises", "pays", "land", "laender", "nation")):
        return None
    last = parts[-1]
    return country_code(last.upper()) or country_name(last.replace("_", " "))


def language(value) -> str | None:
    """ISO 639-1 code (or the 639-2 code where a language has no 639-1) for a code, tag, name or URI.

    'eng', 'en_US', 'en-GB', 'English', 'Deutsch', 'eng; CAN', '.../language/ENG' -> 'en', 'de', ...
    None for 'und', 'mul', 'zxx', 'other' and what it cannot read.
    """
    t = clean(value)
    if not t:
        return None
    if "://" in t:
        t = unquote(urlsplit(t).path).rstrip("/").rsplit("/", 1)[-1]
    t = re.split(r"[;,]", t, maxsplit=1)[0].strip()
    if not t or fold(t) in _NOT_LANGUAGES:
        return None
    two, three, names = _languages()
    m = _LANG_TAG.match(t)
    if m:
        primary = m.group(1).lower()
        if primary in _NOT_LANGUAGES:
            return None
        if len(primary) == 2 and primary in two:
            return primary
        if len(primary) == 3 and primary in three:
            return three[primary]
    return names.get(fold(t))


def lang_tag(value) -> str:
    """A language tag for a text map: the language's code, or 'und' when unknown."""
    return language(value) or "und"
