// Package logging sets up the JSON slog logger every CES process uses.
package logging

import (
	"log/slog"
	"os"
)

// New returns a JSON logger on stderr naming the process, installed as
// slog's default so library code that logs through slog agrees with it.
func New(process string) *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	l := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("process", process)
	slog.SetDefault(l)
	return l
}

// Fatal logs msg with err at error level and exits 1. It is for start-up
// failures in main, where one clear line is all an operator needs.
func Fatal(l *slog.Logger, msg string, err error) {
	l.Error(msg, "error", err.Error())
	os.Exit(1)
}
