package fx

import (
	"sort"
	"strconv"
)

// Currency is one entry of the ISO 4217 table.
type Currency struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// MinorUnits is the number of digits after the decimal point the
	// currency is quoted in (JPY 0, USD 2, KWD 3). It is -1 where ISO 4217
	// says "N.A." (precious metals, SDR, testing codes), which CES treats as
	// "not convertible": a rate can be quoted, an amount cannot be rounded.
	MinorUnits int `json:"minor_units"`
	// Withdrawn marks codes from ISO 4217 list three (historic denominations).
	// Providers still publish some of them and history keeps them, so they
	// are known codes, but they are not offered in new conversions.
	Withdrawn bool `json:"withdrawn,omitempty"`
}

// HasMinorUnits reports whether amounts in the currency can be rounded.
func (c Currency) HasMinorUnits() bool { return c.MinorUnits >= 0 }

// na marks an ISO 4217 "N.A." minor unit.
const na = -1

// currencies is the ISO 4217 table CES knows.
//
// Source: ISO 4217 list one ("Currency, fund and precious metal codes"),
// as published by SIX Financial Information for the ISO 4217 maintenance
// agency, amendment 179 (2025), with the changes in force on 2026-01-01
// (BGN withdrawn when Bulgaria joined the euro); withdrawn codes that providers still send
// (and that stored history may hold) come from ISO 4217 list three. Names
// are the English ISO names, shortened where the list repeats the country.
var currencies = []Currency{
	{"AED", "UAE Dirham", 2, false},
	{"AFN", "Afghani", 2, false},
	{"ALL", "Lek", 2, false},
	{"AMD", "Armenian Dram", 2, false},
	{"AOA", "Kwanza", 2, false},
	{"ARS", "Argentine Peso", 2, false},
	{"AUD", "Australian Dollar", 2, false},
	{"AWG", "Aruban Florin", 2, false},
	{"AZN", "Azerbaijan Manat", 2, false},
	{"BAM", "Convertible Mark", 2, false},
	{"BBD", "Barbados Dollar", 2, false},
	{"BDT", "Taka", 2, false},
	{"BHD", "Bahraini Dinar", 3, false},
	{"BIF", "Burundi Franc", 0, false},
	{"BMD", "Bermudian Dollar", 2, false},
	{"BND", "Brunei Dollar", 2, false},
	{"BOB", "Boliviano", 2, false},
	{"BOV", "Mvdol", 2, false},
	{"BRL", "Brazilian Real", 2, false},
	{"BSD", "Bahamian Dollar", 2, false},
	{"BTN", "Ngultrum", 2, false},
	{"BWP", "Pula", 2, false},
	{"BYN", "Belarusian Ruble", 2, false},
	{"BZD", "Belize Dollar", 2, false},
	{"CAD", "Canadian Dollar", 2, false},
	{"CDF", "Congolese Franc", 2, false},
	{"CHE", "WIR Euro", 2, false},
	{"CHF", "Swiss Franc", 2, false},
	{"CHW", "WIR Franc", 2, false},
	{"CLF", "Unidad de Fomento", 4, false},
	{"CLP", "Chilean Peso", 0, false},
	{"CNY", "Yuan Renminbi", 2, false},
	{"COP", "Colombian Peso", 2, false},
	{"COU", "Unidad de Valor Real", 2, false},
	{"CRC", "Costa Rican Colon", 2, false},
	{"CUP", "Cuban Peso", 2, false},
	{"CVE", "Cabo Verde Escudo", 2, false},
	{"CZK", "Czech Koruna", 2, false},
	{"DJF", "Djibouti Franc", 0, false},
	{"DKK", "Danish Krone", 2, false},
	{"DOP", "Dominican Peso", 2, false},
	{"DZD", "Algerian Dinar", 2, false},
	{"EGP", "Egyptian Pound", 2, false},
	{"ERN", "Nakfa", 2, false},
	{"ETB", "Ethiopian Birr", 2, false},
	{"EUR", "Euro", 2, false},
	{"FJD", "Fiji Dollar", 2, false},
	{"FKP", "Falkland Islands Pound", 2, false},
	{"GBP", "Pound Sterling", 2, false},
	{"GEL", "Lari", 2, false},
	{"GHS", "Ghana Cedi", 2, false},
	{"GIP", "Gibraltar Pound", 2, false},
	{"GMD", "Dalasi", 2, false},
	{"GNF", "Guinean Franc", 0, false},
	{"GTQ", "Quetzal", 2, false},
	{"GYD", "Guyana Dollar", 2, false},
	{"HKD", "Hong Kong Dollar", 2, false},
	{"HNL", "Lempira", 2, false},
	{"HTG", "Gourde", 2, false},
	{"HUF", "Forint", 2, false},
	{"IDR", "Rupiah", 2, false},
	{"ILS", "New Israeli Sheqel", 2, false},
	{"INR", "Indian Rupee", 2, false},
	{"IQD", "Iraqi Dinar", 3, false},
	{"IRR", "Iranian Rial", 2, false},
	{"ISK", "Iceland Krona", 0, false},
	{"JMD", "Jamaican Dollar", 2, false},
	{"JOD", "Jordanian Dinar", 3, false},
	{"JPY", "Yen", 0, false},
	{"KES", "Kenyan Shilling", 2, false},
	{"KGS", "Som", 2, false},
	{"KHR", "Riel", 2, false},
	{"KMF", "Comorian Franc", 0, false},
	{"KPW", "North Korean Won", 2, false},
	{"KRW", "Won", 0, false},
	{"KWD", "Kuwaiti Dinar", 3, false},
	{"KYD", "Cayman Islands Dollar", 2, false},
	{"KZT", "Tenge", 2, false},
	{"LAK", "Lao Kip", 2, false},
	{"LBP", "Lebanese Pound", 2, false},
	{"LKR", "Sri Lanka Rupee", 2, false},
	{"LRD", "Liberian Dollar", 2, false},
	{"LSL", "Loti", 2, false},
	{"LYD", "Libyan Dinar", 3, false},
	{"MAD", "Moroccan Dirham", 2, false},
	{"MDL", "Moldovan Leu", 2, false},
	{"MGA", "Malagasy Ariary", 2, false},
	{"MKD", "Denar", 2, false},
	{"MMK", "Kyat", 2, false},
	{"MNT", "Tugrik", 2, false},
	{"MOP", "Pataca", 2, false},
	{"MRU", "Ouguiya", 2, false},
	{"MUR", "Mauritius Rupee", 2, false},
	{"MVR", "Rufiyaa", 2, false},
	{"MWK", "Malawi Kwacha", 2, false},
	{"MXN", "Mexican Peso", 2, false},
	{"MXV", "Mexican Unidad de Inversion (UDI)", 2, false},
	{"MYR", "Malaysian Ringgit", 2, false},
	{"MZN", "Mozambique Metical", 2, false},
	{"NAD", "Namibia Dollar", 2, false},
	{"NGN", "Naira", 2, false},
	{"NIO", "Cordoba Oro", 2, false},
	{"NOK", "Norwegian Krone", 2, false},
	{"NPR", "Nepalese Rupee", 2, false},
	{"NZD", "New Zealand Dollar", 2, false},
	{"OMR", "Rial Omani", 3, false},
	{"PAB", "Balboa", 2, false},
	{"PEN", "Sol", 2, false},
	{"PGK", "Kina", 2, false},
	{"PHP", "Philippine Peso", 2, false},
	{"PKR", "Pakistan Rupee", 2, false},
	{"PLN", "Zloty", 2, false},
	{"PYG", "Guarani", 0, false},
	{"QAR", "Qatari Rial", 2, false},
	{"RON", "Romanian Leu", 2, false},
	{"RSD", "Serbian Dinar", 2, false},
	{"RUB", "Russian Ruble", 2, false},
	{"RWF", "Rwanda Franc", 0, false},
	{"SAR", "Saudi Riyal", 2, false},
	{"SBD", "Solomon Islands Dollar", 2, false},
	{"SCR", "Seychelles Rupee", 2, false},
	{"SDG", "Sudanese Pound", 2, false},
	{"SEK", "Swedish Krona", 2, false},
	{"SGD", "Singapore Dollar", 2, false},
	{"SHP", "Saint Helena Pound", 2, false},
	{"SLE", "Leone", 2, false},
	{"SOS", "Somali Shilling", 2, false},
	{"SRD", "Surinam Dollar", 2, false},
	{"SSP", "South Sudanese Pound", 2, false},
	{"STN", "Dobra", 2, false},
	{"SVC", "El Salvador Colon", 2, false},
	{"SYP", "Syrian Pound", 2, false},
	{"SZL", "Lilangeni", 2, false},
	{"THB", "Baht", 2, false},
	{"TJS", "Somoni", 2, false},
	{"TMT", "Turkmenistan New Manat", 2, false},
	{"TND", "Tunisian Dinar", 3, false},
	{"TOP", "Pa'anga", 2, false},
	{"TRY", "Turkish Lira", 2, false},
	{"TTD", "Trinidad and Tobago Dollar", 2, false},
	{"TWD", "New Taiwan Dollar", 2, false},
	{"TZS", "Tanzanian Shilling", 2, false},
	{"UAH", "Hryvnia", 2, false},
	{"UGX", "Uganda Shilling", 0, false},
	{"USD", "US Dollar", 2, false},
	{"USN", "US Dollar (Next day)", 2, false},
	{"UYI", "Uruguay Peso en Unidades Indexadas (UI)", 0, false},
	{"UYU", "Peso Uruguayo", 2, false},
	{"UYW", "Unidad Previsional", 4, false},
	{"UZS", "Uzbekistan Sum", 2, false},
	{"VED", "Bolivar Soberano", 2, false},
	{"VES", "Bolivar Soberano", 2, false},
	{"VND", "Dong", 0, false},
	{"VUV", "Vatu", 0, false},
	{"WST", "Tala", 2, false},
	{"XAF", "CFA Franc BEAC", 0, false},
	{"XAG", "Silver", na, false},
	{"XAU", "Gold", na, false},
	{"XBA", "Bond Markets Unit European Composite Unit (EURCO)", na, false},
	{"XBB", "Bond Markets Unit European Monetary Unit (E.M.U.-6)", na, false},
	{"XBC", "Bond Markets Unit European Unit of Account 9 (E.U.A.-9)", na, false},
	{"XBD", "Bond Markets Unit European Unit of Account 17 (E.U.A.-17)", na, false},
	{"XCD", "East Caribbean Dollar", 2, false},
	{"XCG", "Caribbean Guilder", 2, false},
	{"XDR", "SDR (Special Drawing Right)", na, false},
	{"XOF", "CFA Franc BCEAO", 0, false},
	{"XPD", "Palladium", na, false},
	{"XPF", "CFP Franc", 0, false},
	{"XPT", "Platinum", na, false},
	{"XSU", "Sucre", na, false},
	{"XTS", "Codes specifically reserved for testing purposes", na, false},
	{"XUA", "ADB Unit of Account", na, false},
	{"XXX", "The codes assigned for transactions where no currency is involved", na, false},
	{"YER", "Yemeni Rial", 2, false},
	{"ZAR", "Rand", 2, false},
	{"ZMW", "Zambian Kwacha", 2, false},
	{"ZWG", "Zimbabwe Gold", 2, false},

	// ISO 4217 list three: withdrawn, kept because providers and history use them.
	// ANG: replaced by XCG (Caribbean Guilder), legal tender until 2025-06-30.
	{"ANG", "Netherlands Antillean Guilder", 2, true},
	// BGN: Bulgaria adopted the euro on 2026-01-01; the ECB's BGN series
	// ends on 2025-12-31 (testdata's SDMX recording shows it).
	{"BGN", "Bulgarian Lev", 2, true},
	{"CUC", "Peso Convertible", 2, true},
	{"HRK", "Kuna", 2, true},
	{"LTL", "Lithuanian Litas", 2, true},
	{"LVL", "Latvian Lats", 2, true},
	{"MRO", "Ouguiya", 2, true},
	{"SLL", "Leone", 2, true},
	{"STD", "Dobra", 2, true},
	{"VEF", "Bolivar", 2, true},
	{"ZWL", "Zimbabwe Dollar", 2, true},
	// Replaced by the euro (2002 and Estonia 2011), by the redenominated
	// Belarusian ruble (2016) and Zambian kwacha (2013): the defunct codes
	// of testdata/defunct_currencies.json, for the historical series that
	// quote them.
	{"ATS", "Schilling", 2, true},
	{"BEF", "Belgian Franc", 0, true},
	{"BYR", "Belarusian Ruble", 0, true},
	{"DEM", "Deutsche Mark", 2, true},
	{"EEK", "Kroon", 2, true},
	{"ESP", "Spanish Peseta", 0, true},
	{"FRF", "French Franc", 2, true},
	{"IEP", "Irish Pound", 2, true},
	{"ITL", "Italian Lira", 0, true},
	{"NLG", "Netherlands Guilder", 2, true},
	{"PTE", "Portuguese Escudo", 0, true},
	{"ZMK", "Zambian Kwacha", 2, true},
}

var currencyIndex = func() map[string]Currency {
	m := make(map[string]Currency, len(currencies))
	for _, c := range currencies {
		if _, dup := m[c.Code]; dup {
			panic("fx: duplicate currency " + c.Code)
		}
		m[c.Code] = c
	}
	return m
}()

// LookupCurrency returns the ISO 4217 entry for an upper-case code.
func LookupCurrency(code string) (Currency, bool) {
	c, ok := currencyIndex[code]
	return c, ok
}

// Currencies returns every known currency, sorted by code.
func Currencies() []Currency {
	out := make([]Currency, len(currencies))
	copy(out, currencies)
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// ParseCurrency validates a client-supplied code: exactly three upper-case
// ASCII letters that ISO 4217 knows. Lower case is refused rather than
// folded so that a client learns the canonical form once.
func ParseCurrency(s string) (Currency, error) {
	if len(s) != 3 {
		return Currency{}, currencyError{s, " is not a three-letter ISO 4217 code"}
	}
	// Lower case is accepted and normalised, as Frankfurter and Open
	// Exchange Rates do; answers always carry the upper-case code.
	var up [3]byte
	for i := 0; i < 3; i++ {
		switch b := s[i]; {
		case b >= 'A' && b <= 'Z':
			up[i] = b
		case b >= 'a' && b <= 'z':
			up[i] = b - 'a' + 'A'
		default:
			return Currency{}, currencyError{s, " is not a three-letter ISO 4217 code"}
		}
	}
	s = string(up[:])
	c, ok := currencyIndex[s]
	if !ok {
		return Currency{}, currencyError{s, " is not an ISO 4217 currency"}
	}
	return c, nil
}

// currencyError is ParseCurrency's refusal, ErrInvalidCurrency with the
// input quoted (as %q would), built without fmt: a client's bad code is
// answered at the cost of a good one.
type currencyError struct{ input, reason string }

func (e currencyError) Error() string {
	return ErrInvalidCurrency.Error() + ": " + strconv.Quote(e.input) + e.reason
}

func (e currencyError) Unwrap() error { return ErrInvalidCurrency }
