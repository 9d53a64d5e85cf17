package provider

import "github.com/shopspring/decimal"

// FloatText returns the decimal a publisher meant by a number it printed
// from a binary float to 17 significant digits (BNM's API writes its
// 4-place rate 4.2200 as 4.2199999999999998, SBP's spreadsheets store
// 192.04911 as 192.04911000000001): the shortest rounding, to 0 to 12
// decimal places, that lies within a float64's printing error (4.5e-16
// relative, about two units in the last place) of the text. A number
// already short, or a genuinely long one (279.35178571428565, an
// average), is returned unchanged. The decision is made on the exact
// decimal text; no float64 is involved.
func FloatText(text string) (decimal.Decimal, error) {
	d, err := parseRate(text)
	if err != nil {
		return decimal.Decimal{}, err
	}
	tolerance := d.Abs().Mul(decimal.New(45, -17))
	for places := int32(0); places <= 12; places++ {
		r := d.Round(places)
		if d.Sub(r).Abs().LessThanOrEqual(tolerance) {
			return r, nil
		}
	}
	return d, nil
}
