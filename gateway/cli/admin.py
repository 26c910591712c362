"""Subcommands that work on the store and files directly: check, migrate, site, contact, api-key."""

from __future__ import annotations

import argparse
import sys

import yaml

from gateway.auth.apikeys import create_key, load_keys_file, new_key
from gateway.carriers import BACKENDS, backend_class
from gateway.carriers.loopback import exposure as loopback_exposure
from gateway.clock import Clock, isoformat
from gateway.cli.db import check_database
from gateway.cli.store import named_group, named_site, opened
from gateway.cli.access import register_interface
from gateway.cli.validate import creation_lookups, describe, register_lookup
from gateway.config import Config
from gateway.config.channels import channels_summary
from gateway.push import vapid
from gateway.errors import ConfigurationError, GatewayError
from gateway.auth.hashes import hash_secret
from gateway.config.call_list_file import channel_problems, push_ready
from gateway.config.keyword_file import KeywordFileError, load_keyword_table
from gateway.loops.canary import summary as canary_summary
from gateway.mail import create_mailer
from gateway.auth.oauth import create_client, load_clients_file
from gateway.services.optouts import keyword_collisions
from gateway.core.call_list import call_order
from gateway.core.phone import display
from gateway.services.sites import Form, SiteService


def register(sub, common: argparse.ArgumentParser) -> None:
    site = sub.add_parser("site", help="add or list sites").add_subparsers(dest="action", required=True)
    p = site.add_parser("add", parents=[common], help="add a site; prints its id")
    p.add_argument("--dealer", required=True, help="dealer id the site belongs to")
    p.add_argument("--name", required=True)
    p.add_argument("--time-zone", default="UTC", help="IANA zone, e.g. America/New_York (default UTC)")
    p.set_defaults(run=site_add)
    p = site.add_parser("list", parents=[common], help="list sites")
    p.add_argument("--dealer")
    p.set_defaults(run=site_list)

    contact = sub.add_parser("contact", help="add or list contacts").add_subparsers(dest="action", required=True)
    p = contact.add_parser("add", parents=[common], help="add a contact to a site or a site group; prints its id")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--site", help="a contact of this site (SMS interface access to it alone)")
    where.add_argument("--group", help="a contact of this site group (SMS interface access to all its sites)")
    p.add_argument("--first-name", required=True)
    p.add_argument("--last-name", required=True)
    p.add_argument("--phone", help="as people write it; stored as E.164")
    p.add_argument("--email")
    p.add_argument("--auto-notify", action="store_true", help="receives auto-process verification texts")
    p.add_argument("--email-notify", action="store_true", help="also receives verifications by email")
    p.add_argument("--title")
    p.add_argument("--slot", type=int, dest="slot_number")
    p.add_argument("--time-zone", help="IANA zone for times shown to this contact (default: the site's)")
    p.add_argument("--call-order", type=int, help="place in the site's call list, lower first (in-order processes)")
    p.add_argument("--quiet-hours", help='e.g. 22:00-07:00 in the contact\'s zone: non-urgent processes wait')
    p.add_argument("--language", help="BCP 47 language a verification call speaks, e.g. en-US (default: voice.language)")
    p.add_argument("--external-id", help="the contact's id in your own system")
    p.add_argument("--on-test", action="store_true", dest="on_test_permission",
                   help="may put sites on test by SMS (TEST / UNTEST)")
    p.set_defaults(run=contact_add)
    p = contact.add_parser("list", parents=[common], help="list a site's contacts")
    p.add_argument("--site", required=True)
    p.set_defaults(run=contact_list)

    register_interface(sub, contact, common)
    register_lookup(contact, common)

    key = sub.add_parser("api-key", help="manage /ext/v1 API keys").add_subparsers(dest="action", required=True)
    p = key.add_parser("add", parents=[common], help="create a key; prints it once (only its hash is stored)")
    p.add_argument("--name", required=True)
    p.add_argument("--for-file", action="store_true",
                   help="store nothing: print the key, and on stderr its entry for api.keys_file")
    p.set_defaults(run=api_key_add)
    p = key.add_parser("revoke", parents=[common], help="revoke a stored key (running daemons refuse it within a minute)")
    p.add_argument("key_id", help="the id: the part between gwk_ and the second _")
    p.set_defaults(run=api_key_revoke)
    p = key.add_parser("list", parents=[common], help="list the stored keys (never their secrets)")
    p.set_defaults(run=api_key_list)

    oauth = sub.add_parser("oauth-client", help="manage OAuth clients of the /partner/v1 API")
    oauth = oauth.add_subparsers(dest="action", required=True)
    p = oauth.add_parser("add", parents=[common], help="create a client for one dealer; prints its id and secret once")
    p.add_argument("--dealer", required=True, help="the dealer id the client may act for")
    p.add_argument("--name", help="who the client is, for your records")
    p.set_defaults(run=oauth_client_add)
    p = oauth.add_parser("revoke", parents=[common], help="revoke a client and every token it holds")
    p.add_argument("client_id", metavar="ID")
    p.set_defaults(run=oauth_client_revoke)
    p = oauth.add_parser("list", parents=[common], help="list the stored clients (not those of api.oauth_clients_file)")
    p.set_defaults(run=oauth_client_list)


async def check(config: Config, args: argparse.Namespace) -> int:
    problems: list[str] = []
    if config.carrier.backend not in BACKENDS:
        problems.append(f"{config.source or '<defaults>'}: carrier.backend: unknown backend "
                        f"{config.carrier.backend!r} (have: {', '.join(sorted(BACKENDS))})")
    mailer = create_mailer(config.email, folder=config.folder)
    try:
        await mailer.start()  # reads the password and CA files; connects to nothing
    except ConfigurationError as exc:
        problems.append(f"{config.source or '<defaults>'}: {exc.message}")
    finally:
        await mailer.close()
    warnings = [w for w in [loopback_exposure(config)] if w]
    if config.push.backend == "webpush":
        try:
            vapid.load_key(vapid.key_path(config), create=False)
        except ConfigurationError as exc:
            if vapid.key_path(config).exists():  # a missing key is made by serve on its first start
                problems.append(f"{config.source or '<defaults>'}: {exc.message}")
    if config.carrier.backend == "twilio":
        from gateway.carriers import twilio_settings

        problems.extend(f"{config.source or '<defaults>'}: {p}" for p in twilio_settings.problems(config))
        warnings.extend(twilio_settings.warnings(config))
    answers, problem = await check_database(config)
    if problem:
        problems.append(f"{config.source or '<defaults>'}: {problem}")
    table = None
    try:
        table = load_keyword_table(config.keywords_path)
        if config.carrier.backend == "twilio":  # the loopback carrier has no opt-out words
            warnings.extend(keyword_collisions(config.keywords_path))
        calls = config.carrier.backend in BACKENDS and backend_class(config.carrier.backend).places_calls
        found = channel_problems(config.keywords_path, places_calls=calls, push_ready=push_ready(config),
                                 email_ready=config.email.backend != "none")
        problems.extend(found[0])
        warnings.extend(found[1])
    except KeywordFileError as exc:
        problems.extend(str(p) for p in exc.problems)
    except OSError as exc:
        problems.append(f"{config.keywords_path}: cannot read: {exc.strerror}")
    for name, loader in (("oauth_clients_file", load_clients_file), ("keys_file", load_keys_file)):
        if getattr(config.api, name):
            try:
                loader(config.resolve(getattr(config.api, name)))
            except GatewayError as exc:
                problems.append(f"{config.source or '<defaults>'}: {exc.message}")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"ok: config {config.source or '(built-in defaults)'}; keywords {config.keywords_path}: "
          f"{len(table.processes)} auto process(es), {len(table.dispatch_templates)} dispatch template(s)")
    if answers:
        print(f"ok: {answers}")
    for line in channels_summary(config):
        print(line)
    print(canary_summary(config))
    return 0


async def migrate(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:  # open() migrates
        print(f"ok: schema of {store.description} is up to date")
    return 0


CLI = Form(names={"dealer_id": "--dealer", "name": "--name", "time_zone": "--time-zone", "first_name": "--first-name",
                  "last_name": "--last-name", "title": "--title", "external_contact_id": "--external-id",
                  "email": "--email", "phone": "--phone", "auto_notify": "--auto-notify",
                  "email_notify": "--email-notify", "call_order": "--call-order",
                  "quiet_hours": "--quiet-hours"})  # model field -> its option, for error messages


async def site_add(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        site = await SiteService(store, Clock(), config.phone.default_region).create_site(
            dealer_id=args.dealer, name=args.name, time_zone=args.time_zone, form=CLI)
    print(f"{site.id}\t{site.name}\tdealer {site.dealer_id}")
    return 0


async def site_list(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        for site in await store.list_sites(args.dealer):
            print(f"{site.id}\t{site.name}\tdealer {site.dealer_id}\t{site.time_zone}")
    return 0


async def contact_add(config: Config, args: argparse.Namespace) -> int:
    fields = dict(first_name=args.first_name, last_name=args.last_name, title=args.title, phone=args.phone,
                  external_contact_id=args.external_id, email=args.email, auto_notify=args.auto_notify,
                  email_notify=args.email_notify, slot_number=args.slot_number, time_zone=args.time_zone,
                  on_test_permission=args.on_test_permission, call_order=args.call_order,
                  quiet_hours=args.quiet_hours, language=args.language)
    async with opened(config) as store, creation_lookups(config, store, args.phone) as lookups:
        of = await named_site(store, args.site) if args.site else await named_group(store, args.group)
        contact, lookup = await SiteService(store, Clock(), config.phone.default_region, lookups=lookups
                                            ).create_contact(of, fields, CLI)
    print(f"{contact.id}\t{contact.name}\t{display(contact.phone) if contact.phone else '-'}")
    if lookup is not None:
        print(describe(lookup))
    return 0


async def contact_list(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        site = await named_site(store, args.site)
        for c in call_order(await store.list_contacts(site.id)):
            flags = ",".join(f for f, on in (("auto-notify", c.auto_notify), ("email", c.email_notify)) if on)
            extra = "".join(f"\t{label} {value}" for label, value in (("call", c.call_order),
                                                                     ("quiet", c.quiet_hours)) if value is not None)
            print(f"{c.id}\t{c.name}\t{c.phone or '-'}\t{c.email or '-'}\t{flags or '-'}{extra}")
    return 0


async def api_key_add(config: Config, args: argparse.Namespace) -> int:
    if args.for_file:
        key_id, secret, key = new_key()
        print(key)
        entry = yaml.safe_dump([{"id": key_id, "name": args.name, "hash": hash_secret(secret)}], sort_keys=False)
        print(f"Add this entry to api.keys_file:\n{entry}", file=sys.stderr, end="")
        return 0
    async with opened(config) as store:
        key = await create_key(store, args.name, Clock())
    print(key)
    print("Store this key now: only its hash is kept.", file=sys.stderr)
    return 0


async def api_key_revoke(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        if not await store.revoke_api_key(args.key_id, Clock().now()):
            raise GatewayError(f"no active stored key {args.key_id!r} (see `gateway api-key list`; keys of "
                               "api.keys_file are removed from that file)")
    print(f"revoked {args.key_id}")
    return 0


async def api_key_list(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        for key in await store.api_keys():
            print(f"{key['id']}\t{key['name']}\tcreated {isoformat(key['created_at'])}\t"
                  f"{'revoked ' + isoformat(key['revoked_at']) if key['revoked_at'] else 'active'}")
    return 0


async def oauth_client_add(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        client_id, secret = await create_client(store, args.dealer, args.name, Clock())
    print(f"client_id: {client_id}")
    print(f"client_secret: {secret}")
    print(f"Store the secret now: only its hash is kept. The client acts for dealer {args.dealer}.", file=sys.stderr)
    return 0


async def oauth_client_revoke(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        if not await store.revoke_oauth_client(args.client_id, Clock().now()):
            raise GatewayError(f"no active stored client {args.client_id!r} (see `gateway oauth-client list`; "
                               "clients of api.oauth_clients_file are removed from that file)")
    print(f"revoked {args.client_id}: its tokens no longer work")
    return 0


async def oauth_client_list(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        for client, revoked_at in await store.oauth_clients():
            state = f"revoked {revoked_at:%Y-%m-%d %H:%M}" if revoked_at else "active"
            print(f"{client.client_id}\tdealer {client.dealer_id}\t{client.name or '-'}\t{state}")
    return 0
