# aqcast: build, install and uninstall. `make install` builds the release program first and
# needs root for the system paths; DESTDIR stages the files elsewhere (for packaging),
# PREFIX moves the program, its data and units (default /usr/local). The sample configuration is
# installed only where none exists, so an edited /etc/aqcast/aqcast.toml is never overwritten.

PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share/aqcast
DOCDIR = $(PREFIX)/share/doc/aqcast
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR = $(PREFIX)/share/man/man1
BASHDIR = $(PREFIX)/share/bash-completion/completions
ZSHDIR = $(PREFIX)/share/zsh/vendor-completions
FISHDIR = $(PREFIX)/share/fish/vendor_completions.d
# The man page and shell completions, made from the program's own argument definitions.
GENERATED = .build/share
UNITS = aqcast.service aqcast-retrain.service aqcast-retrain.timer
SWIFT_BUILD = swift build -c release --product aqcast
# The program SWIFT_BUILD makes (make deb builds another, with the Swift runtime linked in).
PROGRAM = .build/release/aqcast

.PHONY: all build install uninstall check-units deb

all: build

build:
	$(SWIFT_BUILD)
	@out=$$(swift package generate-manual --authors "the aqcast authors" 2>&1) || { echo "$$out"; exit 1; }
	mkdir -p $(GENERATED)
	$(PROGRAM) --experimental-dump-help > $(GENERATED)/help.json
	python3 scripts/man-page.py .build/plugins/GenerateManual/outputs/aqcast/aqcast.1 man/aqcast-extra.mdoc \
		$(GENERATED)/help.json $(GENERATED)/aqcast.1
	for shell in bash zsh fish; do \
		$(PROGRAM) --generate-completion-script $$shell | sed '1{/^#!/d}' > $(GENERATED)/aqcast.$$shell \
			|| exit 1; \
	done

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/aqcast $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR) \
		$(DESTDIR)$(FISHDIR)
	install -m 0755 $(PROGRAM) $(DESTDIR)$(BINDIR)/aqcast
	install -m 0644 $(GENERATED)/aqcast.1 $(DESTDIR)$(MANDIR)/aqcast.1
	install -m 0644 $(GENERATED)/aqcast.bash $(DESTDIR)$(BASHDIR)/aqcast
	install -m 0644 $(GENERATED)/aqcast.zsh $(DESTDIR)$(ZSHDIR)/_aqcast
	install -m 0644 $(GENERATED)/aqcast.fish $(DESTDIR)$(FISHDIR)/aqcast.fish
	install -m 0644 LICENSE $(DESTDIR)$(DOCDIR)/LICENSE
	install -m 0644 models/aqcast-default.json $(DESTDIR)$(DATADIR)/aqcast-default.json
	# The models for stations that send fewer inputs (docs/sensors.md, "Models for fewer inputs").
	install -m 0644 models/aqcast-pm25-temperature-humidity.json models/aqcast-pm25.json $(DESTDIR)$(DATADIR)/
	# The histories the shipped model was trained on: retraining pools with them, evaluate
	# and backtest read them.
	install -d $(DESTDIR)$(DATADIR)/multisite
	install -m 0644 data/PRSA_data_2010.1.1-2014.12.31.csv $(DESTDIR)$(DATADIR)/
	install -m 0644 data/multisite/*.csv data/multisite/README.md $(DESTDIR)$(DATADIR)/multisite/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -d $(DESTDIR)$(DOCDIR)/docs
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/docs/
	install -m 0644 config/aqcast.toml $(DESTDIR)$(DATADIR)/aqcast.toml.sample
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/aqcast/aqcast.toml ]; then \
		echo "kept $(DESTDIR)$(SYSCONFDIR)/aqcast/aqcast.toml; the new sample is $(DESTDIR)$(DATADIR)/aqcast.toml.sample"; \
	else \
		install -m 0644 config/aqcast.toml $(DESTDIR)$(SYSCONFDIR)/aqcast/aqcast.toml; \
	fi
	@for u in $(UNITS); do \
		sed -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/usr/local/share/|$(PREFIX)/share/|g' \
			-e 's|/etc/aqcast/|$(SYSCONFDIR)/aqcast/|g' systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; \
	done
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

# Removes what install put down, except an edited configuration and the state (the reading log,
# retrained models) in /var/lib/aqcast: those are the operator's.
uninstall:
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		systemctl disable --now aqcast-retrain.timer aqcast.service 2>/dev/null || true; fi
	rm -f $(DESTDIR)$(BINDIR)/aqcast $(DESTDIR)$(MANDIR)/aqcast.1 $(DESTDIR)$(BASHDIR)/aqcast \
		$(DESTDIR)$(ZSHDIR)/_aqcast $(DESTDIR)$(FISHDIR)/aqcast.fish
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/aqcast/aqcast.toml ] && \
		cmp -s $(DESTDIR)$(SYSCONFDIR)/aqcast/aqcast.toml $(DESTDIR)$(DATADIR)/aqcast.toml.sample; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/aqcast/aqcast.toml; \
		rmdir $(DESTDIR)$(SYSCONFDIR)/aqcast 2>/dev/null || true; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/aqcast/aqcast.toml ]; then \
		echo "kept the edited $(DESTDIR)$(SYSCONFDIR)/aqcast/aqcast.toml"; \
	fi
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

# The unit checks CI runs: verify (which warns on stderr yet exits 0, so any output fails) and
# the hardening score. Needs the program installed where the units name it.
check-units:
	bash scripts/check-units.sh

# A Debian package of the installed files, built with dpkg-deb (scripts/make-deb.sh).
deb:
	bash scripts/make-deb.sh
