package catalog

import "slices"

// Peg is a legally fixed exchange rate: Quote units of the pegged
// currency per one unit of Base, its anchor, from Since on, as the
// authority that issues Quote set it.
type Peg struct {
	Quote, Base string
	// Rate is exact decimal text, as the authority states it.
	Rate      string
	Since     string
	Authority string
	// Source is where the rate, its date and its authority are stated.
	Source string
}

// PegProvider is the key of the pegs' publisher: every peg is a stored
// rate of this provider, so a receipt's leg references it like any other.
const PegProvider = "peg"

// pegs are the legal pegs of ../shared/fixtures/central-banks/pegs (facts
// gathered by the Frankfurter project, MIT, each with its own source
// below). GGP, IMP and JEP are not ISO 4217 codes: the peg adapter skips
// them, and they stay here as the facts they are.
var pegs = []Peg{
	{Quote: "AED", Base: "USD", Rate: "3.6725", Since: "1997-11-02", Authority: "Central Bank of the UAE",
		Source: "https://www.centralbank.ae/en/our-operations/currency-operations/exchange-rates"},
	{Quote: "ANG", Base: "USD", Rate: "1.79", Since: "1971-12-18", Authority: "Centrale Bank van Curaçao en Sint Maarten",
		Source: "https://www.centralbank.cw/faq/monetary-foreign-exchange-policy"},
	{Quote: "BAM", Base: "EUR", Rate: "1.95583", Since: "1997-08-11", Authority: "Central Bank of Bosnia and Herzegovina",
		Source: "https://www.cbbh.ba/Content/Read/13"},
	{Quote: "BHD", Base: "USD", Rate: "0.376", Since: "2001-01-01", Authority: "Central Bank of Bahrain",
		Source: "https://www.cbb.gov.bh/monetary-policy/"},
	{Quote: "BMD", Base: "USD", Rate: "1", Since: "1972-02-06", Authority: "Bermuda Monetary Authority",
		Source: "https://en.wikipedia.org/wiki/Bermudian_dollar"},
	{Quote: "BND", Base: "SGD", Rate: "1", Since: "1967-06-12", Authority: "Brunei Darussalam Central Bank",
		Source: "https://www.bdcb.gov.bn/monetary-policy/monetary-policy-framework"},
	{Quote: "BTN", Base: "INR", Rate: "1", Since: "1974-01-01", Authority: "Royal Monetary Authority of Bhutan",
		Source: "https://www.rma.org.bt/mpolicy/"},
	{Quote: "CVE", Base: "EUR", Rate: "110.265", Since: "1999-01-01", Authority: "Banco de Cabo Verde",
		Source: "https://www.bcv.cv/pt/Supervisao/Consumidores/Servi%C3%A7os%20ao%20P%C3%BAblico/perguntasrespostasfrequentes/mercadocambial/Paginas/MercadoCambial.aspx"},
	{Quote: "FKP", Base: "GBP", Rate: "1", Since: "1966-02-14", Authority: "Falkland Islands Government",
		Source: "https://falklands.gov.fk/finance/currency"},
	{Quote: "GGP", Base: "GBP", Rate: "1", Since: "1921-01-01", Authority: "States of Guernsey",
		Source: "https://en.wikipedia.org/wiki/Guernsey_pound"},
	{Quote: "IMP", Base: "GBP", Rate: "1", Since: "1840-01-01", Authority: "Isle of Man Government",
		Source: "https://en.wikipedia.org/wiki/Manx_pound"},
	{Quote: "JEP", Base: "GBP", Rate: "1", Since: "1834-01-01", Authority: "States of Jersey",
		Source: "https://en.wikipedia.org/wiki/Jersey_pound"},
	{Quote: "JOD", Base: "USD", Rate: "0.709", Since: "1995-10-23", Authority: "Central Bank of Jordan",
		Source: "https://www.cbj.gov.jo/Pages/viewpage.aspx?pageID=65"},
	{Quote: "MOP", Base: "HKD", Rate: "1.03", Since: "1983-01-01", Authority: "Autoridade Monetária de Macau",
		Source: "https://www.amcm.gov.mo/en/about-amcm/history/the-pataca"},
	{Quote: "OMR", Base: "USD", Rate: "0.3845", Since: "1986-01-01", Authority: "Central Bank of Oman",
		Source: "https://cbo.gov.om/Pages/FixedPeg.aspx"},
	{Quote: "QAR", Base: "USD", Rate: "3.64", Since: "2001-07-09", Authority: "Qatar Central Bank",
		Source: "https://www.qcb.gov.qa/Documents/BankInstructions/EN/01-02.pdf"},
	{Quote: "SAR", Base: "USD", Rate: "3.75", Since: "1986-06-01", Authority: "Saudi Central Bank",
		Source: "https://www.sama.gov.sa/en-US/MonetaryPolicy/Pages/ExchangeRatePolicy.aspx"},
	{Quote: "SHP", Base: "GBP", Rate: "1", Since: "1976-02-02", Authority: "Government of Saint Helena",
		Source: "https://en.wikipedia.org/wiki/Saint_Helena_pound"},
	{Quote: "TMT", Base: "USD", Rate: "3.5", Since: "2015-01-01", Authority: "Central Bank of Turkmenistan",
		Source: "https://www.bloomberg.com/news/articles/2015-01-02/turkmenistan-devalues-currency-19-amid-oil-plunge-ruble-crisis"},
	{Quote: "XAF", Base: "EUR", Rate: "655.957", Since: "1999-01-01", Authority: "Banque des États de l'Afrique Centrale",
		Source: "https://en.wikipedia.org/wiki/Central_African_CFA_franc"},
	{Quote: "XOF", Base: "EUR", Rate: "655.957", Since: "1999-01-01", Authority: "Banque Centrale des États de l'Afrique de l'Ouest",
		Source: "https://en.wikipedia.org/wiki/West_African_CFA_franc"},
}

// Pegs returns every legal peg, ordered by the pegged currency.
func Pegs() []Peg { return slices.Clone(pegs) }

// PegOf returns the peg of currency code, if it has one.
func PegOf(code string) (Peg, bool) {
	for _, p := range pegs {
		if p.Quote == code {
			return p, true
		}
	}
	return Peg{}, false
}
