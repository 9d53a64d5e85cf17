package faults_test

import (
	"context"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"
)

func expBadRequests(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.apiURL+"/api/v1/conversions/urn:uuid:0192f3a0-0000-7000-8000-000000000000", nil)
	req.Header.Set("Authorization", "Bearer "+clientKey)
	a := send(http.DefaultClient, req)
	r.check(t, "a urn:uuid: conversion id is 404 in the error shape, not 503", a.status == 404 && a.errorCode() != "",
		"%d %s", a.status, a.errorCode())
	a = post(ctx, s.apiURL+"/api/v1/convert", `{"amount":"250.00","from_currency":"USD","to_currency":"JPY"}`, "Bearer ces_not-a-key")
	r.check(t, "a conversion with an unknown API key is 401 in the error shape", a.status == 401 && a.errorCode() == "unauthorized",
		"%d %s", a.status, a.errorCode())
	a = get(ctx, http.DefaultClient, s.apiURL+lookupPath+"&at=9999-12-31")
	r.check(t, "at=9999-12-31 is 400 in the error shape, not 200 with a saturated age", a.status == 400 && a.errorCode() != "",
		"%d %s", a.status, a.errorCode())
}

func expSigtermUnderLoad(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	since := time.Now()
	hc := httpClient(30 * time.Second)
	lctx, stopLoad := context.WithCancel(ctx)
	var convs []answer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		convs = s.conversionLoad(lctx, hc, r.name, 16, 100*time.Millisecond, time.Minute)
	}()
	time.Sleep(500 * time.Millisecond)
	// Conversions pile up behind the lock, then the API is told to stop.
	release := s.lockConversions(t, "EXCLUSIVE")
	defer release()
	time.Sleep(time.Second)
	term := time.Now()
	s.api.signal(syscall.SIGTERM)
	exited := false
	select {
	case <-s.api.done:
		exited = true
	case <-time.After(40 * time.Second):
	}
	took := time.Since(term)
	// Whatever the API left waiting on the lock may go on now: it must
	// roll back, not commit.
	release()
	time.Sleep(500 * time.Millisecond)
	stopLoad()
	wg.Wait()
	obs, ok := s.accountConversions(ctx, since, convs)
	r.check(t, "every 201 stored, every stored row answered 201 (SIGTERM while conversions wait on a lock)", ok, "%s", obs)
	var inFlight []answer
	for _, c := range convs {
		if c.sent.Before(term.Add(-100*time.Millisecond)) && c.sent.Add(c.took).After(term) {
			inFlight = append(inFlight, c)
		}
	}
	answered := all(inFlight, func(a answer) bool { return created(a) || dbUnavailable(a) })
	r.check(t, "conversions in flight at SIGTERM are answered (201, or 503 with nothing stored) before the API exits", answered,
		"%d in flight: %s", len(inFlight), summary(inFlight))
	r.check(t, "the API drains within REQUEST_TIMEOUT, not its 20 s shutdown limit", exited && took < requestTimeout+2*time.Second,
		"exited %v after %s", exited, took.Round(100*time.Millisecond))
	s.api = s.newAPI(t)
}

// expKillAPIUnderLock kills the API (kill -9, as the OOM killer would)
// while conversions wait on a lock: their clients get no answer, so none
// of them may be committed when the lock goes away. A dead process sends
// PostgreSQL no cancel request; only the transaction stops the sessions
// it left behind from committing.
func expKillAPIUnderLock(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	since := time.Now()
	hc := httpClient(10 * time.Second)
	lctx, stopLoad := context.WithCancel(ctx)
	var convs []answer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		convs = s.conversionLoad(lctx, hc, r.name, 16, 100*time.Millisecond, time.Minute)
	}()
	time.Sleep(500 * time.Millisecond)
	release := s.lockConversions(t, "EXCLUSIVE")
	defer release()
	time.Sleep(700 * time.Millisecond)
	waiting := s.waitingOnLock(ctx, "conversion_audits")
	s.api.kill()
	release()
	time.Sleep(500 * time.Millisecond)
	stopLoad()
	wg.Wait()
	obs, ok := s.accountConversions(ctx, since, convs)
	r.check(t, "every 201 stored, nothing stored for the conversions the dead API never answered", ok && waiting > 0,
		"%d sessions waiting on the lock at kill -9; %s", waiting, obs)
	s.api = s.newAPI(t)
}
