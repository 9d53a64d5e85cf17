// Package peg is the adapter of the legal pegs (catalog.Pegs): it reads no
// publisher over the network but turns the compiled-in pegs into rate sets,
// so that each peg is a stored row a receipt's leg can reference, inserted
// through the same quality gate and audit trail as every published rate.
package peg

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"ces/internal/catalog"
	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the pegs' catalogue key.
const Name = catalog.PegProvider

// Client serves the pegs of a table (catalog.Pegs in production).
type Client struct {
	pegs []catalog.Peg
}

// NewClient returns the adapter of the catalogue's pegs; its arguments are
// those of every keyless adapter and unused, since the pegs are compiled in.
func NewClient(string, *http.Client) *Client { return &Client{pegs: catalog.Pegs()} }

// Name returns the provider key.
func (c *Client) Name() string { return Name }

// Latest returns every peg in force: one set per anchor and date the pegs
// took effect on (as_of, midnight UTC), sorted by date and anchor. Pegged
// codes that are no ISO 4217 currency are listed in Skipped.
func (c *Client) Latest(context.Context) ([]fx.RateSet, error) { return c.sets() }

// History returns the sets of Latest whose date falls in [from, to]: a
// peg is published once, on the day it took effect.
func (c *Client) History(_ context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.sets()
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

func (c *Client) sets() ([]fx.RateSet, error) {
	type group struct {
		base  string
		since time.Time
	}
	byGroup := map[group][]catalog.Peg{}
	for _, p := range c.pegs {
		since, err := time.Parse(time.DateOnly, p.Since)
		if err != nil {
			return nil, provider.Invalid("provider %s: %s's peg since %q: %v", Name, p.Quote, p.Since, err)
		}
		g := group{p.Base, since}
		byGroup[g] = append(byGroup[g], p)
	}
	out := make([]fx.RateSet, 0, len(byGroup))
	var unpriced []string
	for g, pegs := range byGroup {
		// The hash names what the rows came from: this group's pegs as
		// compiled in, so a changed table is a new payload.
		payload, err := json.Marshal(pegs)
		if err != nil {
			return nil, err
		}
		b, err := provider.NewBuilder(Name, g.base, g.since, payload)
		if err != nil {
			return nil, err
		}
		for _, p := range pegs {
			if err := b.Add(p.Quote, p.Rate); err != nil {
				return nil, err
			}
		}
		set, err := b.Build()
		if err != nil {
			// Every code of this group is skipped (GGP, IMP and JEP are
			// not ISO 4217 codes): there is no row to store, only the
			// codes to report.
			for _, p := range pegs {
				unpriced = append(unpriced, p.Quote)
			}
			continue
		}
		out = append(out, set)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].AsOf.Equal(out[j].AsOf) {
			return out[i].AsOf.Before(out[j].AsOf)
		}
		return out[i].Base < out[j].Base
	})
	if len(out) == 0 {
		return nil, provider.Invalid("provider %s: no peg is of an ISO 4217 currency", Name)
	}
	sort.Strings(unpriced)
	out[0].Skipped = append(out[0].Skipped, unpriced...)
	return out, nil
}
