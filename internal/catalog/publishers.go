package catalog

// publishers is the catalogue. Names, countries, rate types, pivots,
// cadences, polling windows, coverage starts and URLs are the publishers'
// own, as recorded in the central-bank fixtures' metadata (from the
// Frankfurter project's recordings); Quoting is what each adapter reads
// in the publisher's payload.
var publishers = []Publisher{
	{
		Key: "ecb", Name: "European Central Bank", Country: "EU", Issues: "EUR",
		RateType: "reference rate", Pivot: "EUR", Quoting: "foreign units per 1 EUR",
		Cadence: Daily, Schedule: []string{"10 14-17 * * 1-5"}, CoverageStart: "1999-01-04",
		DataURL:  "https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html",
		TermsURL: "https://www.ecb.europa.eu/services/using-our-site/disclaimer/html/index.en.html",
	},
	{
		Key: "cbn", Name: "Central Bank of Nigeria", Country: "NG", Issues: "NGN",
		RateType: "official exchange rate", Pivot: "NGN", Quoting: "NGN per 1 foreign unit (central rate)",
		Cadence: Daily, Schedule: []string{"20 8-18 * * 1-5"}, CoverageStart: "2001-12-10",
		DataURL:  "https://www.cbn.gov.ng/rates/exchratebycurrency.asp",
		TermsURL: "https://www.cbn.gov.ng/Legal.html",
	},
	{
		Key: "openexchangerates", Name: "Open Exchange Rates",
		RateType: "aggregated market rate", Pivot: "USD", Quoting: "foreign units per 1 USD",
		Cadence: Hourly, CoverageStart: "1999-01-01",
		DataURL:  "https://openexchangerates.org/",
		TermsURL: "https://openexchangerates.org/terms",
		KeyEnv:   "FX_API_KEY",
	},
	{
		Key: "boc", Name: "Bank of Canada", Country: "CA", Issues: "CAD",
		RateType: "indicative rate", Pivot: "CAD", Quoting: "CAD per 1 foreign unit",
		Cadence: Daily, Schedule: []string{"*/30 20-22 * * 1-5"}, CoverageStart: "2017-01-03",
		DataURL:  "https://www.bankofcanada.ca/rates/exchange/daily-exchange-rates/",
		TermsURL: "https://www.bankofcanada.ca/terms/",
	},
	{
		Key: "boe", Name: "Bank of England", Country: "GB", Issues: "GBP",
		RateType: "spot rate", Pivot: "GBP", Quoting: "foreign units per 1 GBP",
		Cadence: Daily, Schedule: []string{"*/30 16-18 * * 1-5"}, CoverageStart: "2000-01-04",
		DataURL:  "https://www.bankofengland.co.uk/boeapps/database/Rates.asp?into=GBP",
		TermsURL: "https://www.bankofengland.co.uk/legal",
	},
	{
		Key: "rba", Name: "Reserve Bank of Australia", Country: "AU", Issues: "AUD",
		Pivot: "AUD", Quoting: "foreign units per 1 AUD",
		Cadence: Daily, Schedule: []string{"*/30 5-7 * * 1-5"}, CoverageStart: "2023-01-03",
		DataURL:  "https://www.rba.gov.au/statistics/frequency/exchange-rates.html",
		TermsURL: "https://www.rba.gov.au/copyright/",
	},
	{
		Key: "nb", Name: "Norges Bank", Country: "NO", Issues: "NOK",
		RateType: "middle rate", Pivot: "NOK", Quoting: "NOK per 1 or per 100 foreign units (the series' UNIT_MULT)",
		Cadence: Daily, Schedule: []string{"*/30 14-16 * * 1-5"}, CoverageStart: "1999-01-04",
		DataURL:  "https://data.norges-bank.no/",
		TermsURL: "https://www.norges-bank.no/en/topics/Statistics/disclaimer/",
	},
	{
		Key: "rb", Name: "Sveriges Riksbank", Country: "SE", Issues: "SEK",
		RateType: "indicative rate", Pivot: "SEK", Quoting: "SEK per 1 foreign unit",
		Cadence: Daily, Schedule: []string{"*/30 15-17 * * 1-5"}, CoverageStart: "1993-01-04",
		DataURL:  "https://www.riksbank.se/en-gb/statistics/",
		TermsURL: "https://www.riksbank.se/en-gb/about-the-website/terms-of-use/",
	},
	{
		Key: "dnb", Name: "Danmarks Nationalbank", Country: "DK", Issues: "DKK",
		RateType: "indicative rate", Pivot: "DKK", Quoting: "DKK per 100 foreign units",
		Cadence: Daily, Schedule: []string{"*/30 14-16 * * 1-5"}, CoverageStart: "1977-01-03",
		DataURL: "https://www.nationalbanken.dk/en/what-we-do/stable-prices-monetary-policy-and-the-danish-economy/exchange-rates",
	},
	{
		Key: "cnb", Name: "Czech National Bank", Country: "CZ", Issues: "CZK",
		RateType: "exchange rate fixing", Pivot: "CZK", Quoting: "CZK per 1, 100 or 1000 foreign units (the row's amount)",
		Cadence: Daily, Schedule: []string{"*/30 13-15 * * 1-5"}, CoverageStart: "1991-01-01",
		DataURL:  "https://api.cnb.cz/cnbapi/swagger-ui.html",
		TermsURL: "https://www.cnb.cz/en/footer/general-terms-and-conditions/",
	},
}
