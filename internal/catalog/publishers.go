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
		// The legal pegs (see Pegs): each set by the authority issuing the
		// pegged currency, stored as rows like every rate and checked once
		// a day, so a peg added here is served after the next run.
		Key: PegProvider, Name: "Legal pegs",
		RateType: "legally fixed rate", Quoting: "pegged currency units per 1 unit of its anchor (EUR, USD, GBP, HKD, INR, SGD)",
		Cadence: Fixed, Schedule: []string{"15 6 * * *"}, CoverageStart: "1834-01-01",
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
	{
		Key: "nbu", Name: "Natsionalnyi Bank Ukrainy", Country: "UA", Issues: "UAH",
		RateType: "official rate", Pivot: "UAH", Quoting: "UAH per 1, 10, 100 or 1000 foreign units (the row's units)",
		Cadence: Daily, Schedule: []string{"*/30 10-12 * * 1-5"}, CoverageStart: "1999-01-04",
		DataURL:  "https://bank.gov.ua/en/markets/exchangerates",
		TermsURL: "https://bank.gov.ua/en/useterms",
	},
	{
		Key: "nbk", Name: "National Bank of Kazakhstan", Country: "KZ", Issues: "KZT",
		RateType: "official (market) rate", Pivot: "KZT", Quoting: "KZT per 1, 10, 100 or 1000 foreign units (the row's quant)",
		Cadence: Daily, Schedule: []string{"*/30 9-11 * * 1-5"}, CoverageStart: "2000-01-01",
		DataURL: "https://nationalbank.kz/en/exchangerates/ezhednevnye-oficialnye-rynochnye-kursy-valyut",
	},
	{
		Key: "nbg", Name: "National Bank of Georgia", Country: "GE", Issues: "GEL",
		RateType: "official rate", Pivot: "GEL", Quoting: "GEL per 1 to 10000 foreign units (the row's quantity)",
		Cadence: Daily, Schedule: []string{"*/30 8-10 * * 1-5"}, CoverageStart: "1995-10-14",
		DataURL: "https://nbg.gov.ge/en/monetary-policy/currency",
	},
	{
		Key: "bcra", Name: "Banco Central de la República Argentina", Country: "AR", Issues: "ARS",
		RateType: "reference rate", Pivot: "ARS", Quoting: "ARS per 1 foreign unit (VND per 1000)",
		Cadence: Daily, Schedule: []string{"*/30 16-18 * * 1-5"}, CoverageStart: "2000-01-03",
		DataURL:  "https://www.bcra.gob.ar/en/monetary-and-financial-statistics/exchange-statistics/",
		TermsURL: "https://www.bcra.gob.ar/aviso-legal/",
	},
	{
		Key: "imf", Name: "International Monetary Fund",
		RateType: "representative rate", Pivot: "USD", Quoting: "foreign units per 1 USD, or USD per 1 foreign unit where the IMF marks the row (1)",
		Cadence: Daily, Schedule: []string{"*/30 18-20 * * 1-5"}, CoverageStart: "2003-04-01",
		DataURL:  "https://www.imf.org/external/np/fin/ert/GUI/Pages/CountryDataBase.aspx",
		TermsURL: "https://www.imf.org/en/about/copyright-and-terms",
	},
	{
		Key: "bdi", Name: "Banca d'Italia", Country: "IT",
		Pivot: "EUR", Quoting: "foreign units per 1 EUR",
		Cadence: Daily, Schedule: []string{"*/30 16-18 * * 1-5"}, CoverageStart: "1999-01-04",
		DataURL: "https://tassidicambio.bancaditalia.it/",
	},
	{
		// FRED republishes the Federal Reserve Board's H.10 release
		// weekly; the Federal Reserve issues the dollar.
		Key: "fred", Name: "Federal Reserve Bank of St. Louis", Country: "US", Issues: "USD",
		RateType: "H.10", Pivot: "USD", Quoting: "foreign units per 1 USD (USD per 1 unit for AUD, EUR, GBP and NZD)",
		Cadence: Weekly, Schedule: []string{"*/30 21-23 * * 1"}, CoverageStart: "1971-01-04",
		DataURL:  "https://www.federalreserve.gov/releases/h10/",
		TermsURL: "https://fred.stlouisfed.org/legal/",
		KeyEnv:   "FX_FRED_API_KEY",
	},
	{
		Key: "nbp", Name: "Narodowy Bank Polski", Country: "PL", Issues: "PLN",
		RateType: "average rate", Pivot: "PLN", Quoting: "PLN per 1 foreign unit (table A daily, table B weekly)",
		Cadence: Daily, Schedule: []string{"*/30 11-13 * * 1-5"}, CoverageStart: "2002-01-02",
		DataURL: "https://nbp.pl/en/statistic-and-financial-reporting/rates/",
	},
	{
		Key: "mnb", Name: "Magyar Nemzeti Bank", Country: "HU", Issues: "HUF",
		RateType: "official rate", Pivot: "HUF", Quoting: "HUF per 1 or 100 foreign units (the row's unit)",
		Cadence: Daily, Schedule: []string{"*/30 10-12 * * 1-5"}, CoverageStart: "1999-01-04",
		DataURL: "https://www.mnb.hu/en/monetary-policy/the-mpc/exchange-rates",
	},
	{
		Key: "bnr", Name: "Banca Națională a României", Country: "RO", Issues: "RON",
		RateType: "reference rate", Pivot: "RON", Quoting: "RON per 1 or 100 foreign units (the row's multiplier)",
		Cadence: Daily, Schedule: []string{"*/30 11-13 * * 1-5"}, CoverageStart: "2005-01-03",
		DataURL: "https://www.bnr.ro/en/561-exchange-rates",
	},
	{
		Key: "boi", Name: "Bank of Israel", Country: "IL", Issues: "ILS",
		RateType: "representative rate", Pivot: "ILS", Quoting: "ILS per 1, 10 or 100 foreign units (the series' UNIT_MULT)",
		Cadence: Daily, Schedule: []string{"*/30 12-14 * * 1-5"}, CoverageStart: "2000-01-01",
		DataURL:  "https://www.boi.org.il/en/economic-roles/statistics/foreign-exchange-market/exchange-rates/",
		TermsURL: "https://www.boi.org.il/en/terms-of-use",
	},
	{
		// The CBE states no publication hour: CES dates a day's rates 17:00
		// in Cairo and polls after that (the recording's metadata polls
		// from about noon), so no rate is ever dated after its fetch.
		Key: "cbe", Name: "Central Bank of Egypt", Country: "EG", Issues: "EGP",
		RateType: "official rate", Pivot: "EGP", Quoting: "EGP per 1 foreign unit (JPY per 100), the middle of buy and sell",
		Cadence: Daily, Schedule: []string{"*/30 15-17 * * 0-4"}, CoverageStart: "2024-03-01",
		DataURL:  "https://www.cbe.org.eg/en/economic-research/statistics/cbe-exchange-rates/historical-data",
		TermsURL: "https://www.cbe.org.eg/en/disclaimer",
	},
	{
		// Dated 17:00 in Nairobi (14:00 UTC) and polled after it.
		Key: "cbk", Name: "Central Bank of Kenya", Country: "KE", Issues: "KES",
		RateType: "indicative rate", Pivot: "KES", Quoting: "KES per 1 foreign unit (JPY per 100); UGX, TZS, RWF and BIF per 1 KES",
		Cadence: Daily, Schedule: []string{"*/30 14-16 * * 1-5"}, CoverageStart: "2003-09-12",
		DataURL: "https://www.centralbank.go.ke/forex/",
	},
	{
		// Dated 17:00 in Johannesburg (15:00 UTC) and polled after it.
		Key: "sarb", Name: "South African Reserve Bank", Country: "ZA", Issues: "ZAR",
		RateType: "weighted average", Pivot: "ZAR", Quoting: "ZAR per 1 USD, GBP and EUR; other currencies' units per 1 ZAR",
		Cadence: Daily, Schedule: []string{"*/30 15-17 * * 1-5"}, CoverageStart: "2000-01-01",
		DataURL: "https://custom.resbank.co.za/SarbWebApi/WebIndicators/HistoricalExchangeRatesDaily",
	},
	{
		Key: "bcb", Name: "Banco Central do Brasil", Country: "BR", Issues: "BRL",
		RateType: "PTAX closing", Pivot: "BRL", Quoting: "BRL per 1 foreign unit, the middle of buy and sell",
		Cadence: Daily, Schedule: []string{"*/30 16-18 * * 1-5"}, CoverageStart: "2000-01-01",
		DataURL: "https://olinda.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata/",
	},
	{
		// The TRM is published the business day before it is in force and
		// dated from 00:00 in Bogotá (05:00 UTC) of its first day, so it is
		// polled after that rather than at its publication (the metadata's
		// 23:00-01:00 UTC), which would date it after its fetch.
		Key: "banrep", Name: "Banco de la República", Country: "CO", Issues: "COP",
		RateType: "representative market", Pivot: "COP", Quoting: "COP per 1 USD",
		Cadence: Daily, Schedule: []string{"*/30 5-7 * * *"}, CoverageStart: "2000-01-03",
		DataURL: "https://www.datos.gov.co/Econom-a-y-Finanzas/Tasa-de-Cambio-Representativa-del-Mercado-TRM/32sa-8pi3/about_data",
	},
	{
		// FBIL is the Reserve Bank of India's benchmark administrator: its
		// reference rates are India's own rates for the rupee.
		Key: "fbil", Name: "Financial Benchmarks India", Country: "IN", Issues: "INR",
		RateType: "reference rate", Pivot: "INR", Quoting: "INR per 1 foreign unit (JPY per 100, IDR per 10000)",
		Cadence: Daily, Schedule: []string{"*/30 8-10 * * 1-5"}, CoverageStart: "2018-07-10",
		DataURL:  "https://www.fbil.org.in/#/refrates",
		TermsURL: "https://www.fbil.org.in/#/termsandcondition",
	},
	{
		// Dated 17:00 in Kuala Lumpur (09:00 UTC) and polled after it.
		Key: "bnm", Name: "Bank Negara Malaysia", Country: "MY", Issues: "MYR",
		Pivot: "MYR", Quoting: "MYR per 1 or 100 foreign units (the 09:00 session's middle rate)",
		Cadence: Daily, Schedule: []string{"*/30 9-11 * * 1-5"}, CoverageStart: "2006-01-03",
		DataURL: "https://www.bnm.gov.my/exchange-rates",
	},
	{
		Key: "mas", Name: "Monetary Authority of Singapore", Country: "SG", Issues: "SGD",
		Pivot: "SGD", Quoting: "SGD per 1 or 100 foreign units",
		Cadence: Daily, Schedule: []string{"*/30 10-12 * * 1-5"}, CoverageStart: "1988-01-01",
		DataURL: "https://eservices.mas.gov.sg/statistics/msb/ExchangeRates.aspx",
	},
	{
		// Dated 17:00 in Jakarta (10:00 UTC) and polled after it.
		Key: "bi", Name: "Bank Indonesia", Country: "ID", Issues: "IDR",
		RateType: "transaction", Pivot: "IDR", Quoting: "IDR per 1 foreign unit (JPY per 100), the middle of sell and buy",
		Cadence: Daily, Schedule: []string{"*/30 10-12 * * 1-5"}, CoverageStart: "2024-01-02",
		DataURL: "https://www.bi.go.id/en/statistik/informasi-kurs/transaksi-bi/default.aspx",
	},
	{
		// The SBP releases each month's workbook after the days it covers;
		// each rate is dated the day it is for.
		Key: "sbp", Name: "State Bank of Pakistan", Country: "PK", Issues: "PKR",
		RateType: "daily average banks' floating rate", Pivot: "PKR", Quoting: "PKR per 1 foreign unit",
		Cadence: Monthly, Schedule: []string{"*/30 5-15 15-28 * *"}, CoverageStart: "2013-07-02",
		DataURL:  "https://www.sbp.org.pk/assets/document/BFER_Daily.xlsx",
		TermsURL: "https://www.sbp.org.pk/our-operations/disclaimer",
	},
	{
		// The CBR sets each day's rates the afternoon before; CES dates them
		// 18:00 in Moscow (15:00 UTC) of the day they were set and polls
		// after that.
		Key: "cbr", Name: "Central Bank of Russia", Country: "RU", Issues: "RUB",
		RateType: "official rate", Pivot: "RUB", Quoting: "RUB per 1 to 1000000 foreign units (the row's Nominal)",
		Cadence: Daily, Schedule: []string{"*/30 15-17 * * 1-5"}, CoverageStart: "1999-01-04",
		DataURL:  "https://www.cbr.ru/eng/currency_base/daily/",
		TermsURL: "https://www.cbr.ru/eng/user_agreement/",
	},
	{
		Key: "sbi", Name: "Seðlabanki Íslands", Country: "IS", Issues: "ISK",
		RateType: "official rate", Pivot: "ISK", Quoting: "ISK per 1 foreign unit (middle rate)",
		Cadence: Daily, Schedule: []string{"*/30 16-18 * * 1-5"}, CoverageStart: "1981-01-01",
		DataURL: "https://www.sedlabanki.is/hagtolur/opinbert-gengi/",
	},
	{
		// Dated 00:00 UTC of the day a rate is in force (it is set the day
		// before) and polled after that.
		Key: "nbrb", Name: "Natsyyanalny Bank Respubliki Belarus", Country: "BY", Issues: "BYN",
		RateType: "official rate", Pivot: "BYN", Quoting: "BYN per 1 to 100000 foreign units (the row's Cur_Scale)",
		Cadence: Daily, Schedule: []string{"*/30 0-2 * * *"}, CoverageStart: "2016-07-01",
		DataURL: "https://www.nbrb.by/engl/statistics/rates/ratesdaily.asp",
	},
	{
		// Dated 18:00 in Yerevan (14:00 UTC) and polled after it.
		Key: "cba", Name: "Central Bank of Armenia", Country: "AM", Issues: "AMD",
		RateType: "average rate", Pivot: "AMD", Quoting: "AMD per 1, 10 or 100 foreign units (the row's Amount)",
		Cadence: Daily, Schedule: []string{"*/30 14-16 * * 1-5"}, CoverageStart: "1999-01-04",
		DataURL: "https://www.cba.am/en/SitePage/ExchangeArchive.aspx",
	},
	{
		// Dated 18:00 in Chisinau (15:00 or 16:00 UTC) and polled after it.
		Key: "nbm", Name: "National Bank of Moldova", Country: "MD", Issues: "MDL",
		RateType: "official rate", Pivot: "MDL", Quoting: "MDL per 1, 10 or 100 foreign units (the row's Nominal)",
		Cadence: Daily, Schedule: []string{"*/30 16-18 * * 1-5"}, CoverageStart: "1999-01-04",
		DataURL: "https://www.bnm.md/en/official_exchange_rates",
	},
	{
		// Dated 18:00 in Tashkent (13:00 UTC) and polled after it.
		Key: "cbu", Name: "Central Bank of Uzbekistan", Country: "UZ", Issues: "UZS",
		Pivot: "UZS", Quoting: "UZS per 1 or 10 foreign units (the row's Nominal)",
		Cadence: Daily, Schedule: []string{"*/30 13-15 * * 1-5"}, CoverageStart: "1994-07-01",
		DataURL: "https://cbu.uz/en/arkhiv-kursov-valyut/json/",
	},
	{
		// Dated 18:00 in Dushanbe (13:00 UTC) and polled after it.
		Key: "nbt", Name: "National Bank of Tajikistan", Country: "TJ", Issues: "TJS",
		RateType: "official rate", Pivot: "TJS", Quoting: "TJS per 1 to 1000 foreign units (the row's Nominal)",
		Cadence: Daily, Schedule: []string{"*/30 13-15 * * *"}, CoverageStart: "2001-01-01",
		DataURL: "https://www.nbt.tj/en/kurs/",
	},
	{
		// Dated as the NRB states it: each date's rates published at
		// midnight Kathmandu (18:15 UTC the day before), polled after it.
		Key: "nrb", Name: "Nepal Rastra Bank", Country: "NP", Issues: "NPR",
		RateType: "reference rate", Pivot: "NPR", Quoting: "NPR per 1, 10 or 100 foreign units (the rate's unit), middle of buying and selling",
		Cadence: Daily, Schedule: []string{"*/30 6-8 * * *"}, CoverageStart: "2010-01-01",
		DataURL: "https://www.nrb.org.np/api/forex/v1/rates",
	},
	{
		// Dated 10:00 in Ulaanbaatar (02:00 UTC), the first poll.
		Key: "bom", Name: "Bank of Mongolia", Country: "MN", Issues: "MNT",
		RateType: "statutory reference rate", Pivot: "MNT", Quoting: "MNT per 1 foreign unit",
		Cadence: Daily, Schedule: []string{"*/30 2-4 * * 1-5"}, CoverageStart: "2001-01-02",
		DataURL: "https://www.mongolbank.mn/en/currency-rate-movement",
	},
	{
		// Dated 10:30 in Yangon (04:00 UTC), the first poll. The metadata
		// names no coverage start: 2012-04-02 is the first reference rate
		// of the kyat's managed float, which began on 1 April 2012.
		Key: "cbm", Name: "Central Bank of Myanmar", Country: "MM", Issues: "MMK",
		RateType: "reference rate", Pivot: "MMK", Quoting: "MMK per 1 foreign unit (per 100 for JPY, KRW, IDR, KHR, VND and LAK)",
		Cadence: Daily, Schedule: []string{"*/30 4-6 * * 1-5"}, CoverageStart: "2012-04-02",
		DataURL: "https://forex.cbm.gov.mm/api/latest",
	},
	{
		// Dated 08:00 in Malé (03:00 UTC), the first poll.
		Key: "mma", Name: "Maldives Monetary Authority", Country: "MV", Issues: "MVR",
		RateType: "reference rate", Pivot: "MVR", Quoting: "MVR per 1 USD (its only rate)",
		Cadence: Daily, Schedule: []string{"*/30 3-5 * * 0-4"}, CoverageStart: "2011-04-21",
		DataURL: "https://www.mma.gov.mv/JSON/referencerates.json",
	},
	{
		// Dated 13:00 in Addis Ababa (10:00 UTC), the first poll.
		Key: "nbe", Name: "National Bank of Ethiopia", Country: "ET", Issues: "ETB",
		RateType: "weighted average", Pivot: "ETB", Quoting: "ETB per 1 foreign unit (the weighted average)",
		Cadence: Daily, Schedule: []string{"*/30 10-12 * * 1-5"}, CoverageStart: "2024-10-01",
		DataURL: "https://nbe.gov.et/exchange-rate/",
	},
	{
		// Dated 11:00 in Macau (03:00 UTC), when the polling window opens.
		Key: "amcm", Name: "Autoridade Monetária de Macau", Country: "MO", Issues: "MOP",
		RateType: "interbank middle rate", Pivot: "MOP", Quoting: "MOP per 1 foreign unit (JPY and KRW per 100)",
		Cadence: Daily, Schedule: []string{"*/30 3-5 * * 1-5"}, CoverageStart: "1986-01-02",
		DataURL: "https://www.amcm.gov.mo/en/financial-information/interbank-midpoint",
	},
	{
		// The HKMA releases each month's table early in the next; each
		// rate is dated the day it is for, 17:00 in Hong Kong (09:00 UTC).
		Key: "hkma", Name: "Hong Kong Monetary Authority", Country: "HK", Issues: "HKD",
		Pivot: "HKD", Quoting: "HKD per 1 foreign unit",
		Cadence: Monthly, Schedule: []string{"*/30 1-10 3-12 * *"}, CoverageStart: "1981-01-02",
		DataURL:  "https://www.hkma.gov.hk/eng/data-publications-and-research/data-and-statistics/daily-monetary-statistics/",
		TermsURL: "https://www.hkma.gov.hk/eng/disclaimer/",
	},
	{
		// The BCN publishes each month's table ahead of it, a rate for
		// every calendar day; each is dated 08:00 in Managua (14:00 UTC).
		Key: "bcn", Name: "Banco Central de Nicaragua", Country: "NI", Issues: "NIO",
		RateType: "reference rate", Pivot: "NIO", Quoting: "NIO per 1 USD",
		Cadence: Daily, Schedule: []string{"*/30 14-16 * * *"}, CoverageStart: "2012-01-01",
		DataURL: "https://www.bcn.gob.ni/estadisticas/mercados_cambiarios/tipo_cambio/cordoba_dolar",
	},
	{
		// Dated 16:00 in Kigali (14:00 UTC), when the polling window opens.
		Key: "bnrrw", Name: "Banque Nationale du Rwanda", Country: "RW", Issues: "RWF",
		RateType: "reference rate", Pivot: "RWF", Quoting: "RWF per 1 foreign unit (the BNR's average rate, as published)",
		Cadence: Daily, Schedule: []string{"*/30 14-16 * * 1-5"}, CoverageStart: "2012-01-02",
		DataURL:  "https://www.bnr.rw/exchangeRate",
		TermsURL: "https://www.bnr.rw/statuse",
	},
	{
		// The NBRM forms each business day's list for the next calendar
		// day; CES dates it 16:00 UTC on the day it was formed and polls
		// after that (the metadata's window, 10:00-12:00 UTC, fits the day
		// a list applies, not the day it is formed).
		Key: "nbrm", Name: "Narodna Banka na Republika Severna Makedonija", Country: "MK", Issues: "MKD",
		Pivot: "MKD", Quoting: "MKD per 1 foreign unit (the row's nomin)",
		Cadence: Daily, Schedule: []string{"*/30 16-18 * * 1-5"}, CoverageStart: "1993-01-01",
		DataURL: "https://www.nbrm.mk",
	},
}
