"""Subcommands that set up the SMS interface: site groups, PINs, the On Test permission."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from datetime import timedelta

from gateway.clock import Clock
from gateway.cli.store import named_group, named_site, opened
from gateway.config import Config
from gateway.errors import GatewayError
from gateway.auth.hashes import hash_secret
from gateway.model import SiteGroup
from gateway.core.pin import normalized_pin
from gateway.core.plain_text import clean, identifier


def register_interface(sub, contact_actions, common: argparse.ArgumentParser) -> None:
    group = sub.add_parser("group", help="site groups for the SMS interface").add_subparsers(dest="action",
                                                                                           required=True)
    p = group.add_parser("add", parents=[common], help="add a site group; prints its id")
    p.add_argument("--dealer", required=True)
    p.add_argument("--name", required=True)
    p.set_defaults(run=group_add)
    p = group.add_parser("add-site", parents=[common], help="put a site in a group")
    p.add_argument("--group", required=True)
    p.add_argument("--site", required=True)
    p.set_defaults(run=group_add_site)
    p = group.add_parser("list", parents=[common], help="list site groups and their sites")
    p.set_defaults(run=group_list)

    p = contact_actions.add_parser("set-pin", parents=[common], help="set a contact's PIN (read from the terminal or stdin)")
    p.add_argument("contact_id", type=int)
    p.add_argument("--duress", action="store_true", help="set the duress PIN instead")
    p.add_argument("--clear", action="store_true", help="remove the PIN (or the duress PIN)")
    p.set_defaults(run=contact_set_pin)
    p = contact_actions.add_parser("set-permission", parents=[common], help="grant or withdraw the On Test permission")
    p.add_argument("contact_id", type=int)
    on_test = p.add_mutually_exclusive_group(required=True)
    on_test.add_argument("--on-test", dest="allowed", action="store_true")
    on_test.add_argument("--no-on-test", dest="allowed", action="store_false")
    p.set_defaults(run=contact_set_permission)


def read_pin(prompt: str) -> str:
    """A PIN from the terminal (not echoed, typed twice) or the first line of stdin. Never from argv.
    Digits of any script are read as ASCII digits, as they are when the PIN is texted."""
    if sys.stdin.isatty():
        pin = normalized_pin(getpass.getpass(prompt))
        if normalized_pin(getpass.getpass("Again: ")) != pin:
            raise GatewayError("the two PINs differ; nothing changed")
    else:
        pin = normalized_pin(sys.stdin.readline())
    if pin is None:
        raise GatewayError("a PIN is 4 to 8 digits; nothing changed")
    return pin


async def group_add(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        group = await store.add_site_group(SiteGroup(
            id="grp_" + secrets.token_hex(4), dealer_id=identifier(args.dealer, "--dealer", required=True),
            name=clean(args.name, "--name", required=True), created_at=Clock().now()))
    print(f"{group.id}\t{group.name}\tdealer {group.dealer_id}")
    return 0


async def group_add_site(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        group = await named_group(store, args.group)
        site = await named_site(store, args.site)
        if site.dealer_id != group.dealer_id:
            raise GatewayError(f"site {site.id} belongs to dealer {site.dealer_id}, the group to {group.dealer_id}")
        await store.add_site_to_group(group.id, site.id)
    print(f"{group.id}\t{site.id}\t{site.name}")
    return 0


async def group_list(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        for group in await store.list_site_groups():
            sites = await store.group_sites(group.id)
            print(f"{group.id}\t{group.name}\tdealer {group.dealer_id}\t{', '.join(s.id for s in sites) or '-'}")
    return 0


async def contact_set_pin(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        contact = await store.get_contact(args.contact_id)
        if contact is None:
            raise GatewayError(f"no contact {args.contact_id}")
        which = "duress PIN" if args.duress else "PIN"
        pin_hash = None if args.clear else hash_secret(read_pin(f"New {which} for {contact.name}: "))
        if args.duress:
            await store.set_duress_pin(contact.id, pin_hash)
            print(f"{which} {'cleared' if args.clear else 'set'} for contact {contact.id}")
            return 0
        expires = None if args.clear else Clock().now() + timedelta(days=config.interface.pin_duration_days)
        await store.set_pin(contact.id, pin_hash, expires)
    print(f"PIN {'cleared' if args.clear else 'set'} for contact {contact.id}"
          + (f"; it expires {expires:%Y-%m-%d}" if expires else ""))
    return 0


async def contact_set_permission(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as store:
        if await store.get_contact(args.contact_id) is None:
            raise GatewayError(f"no contact {args.contact_id}")
        await store.set_on_test_permission(args.contact_id, args.allowed)
    print(f"contact {args.contact_id}: On Test permission {'granted' if args.allowed else 'withdrawn'}")
    return 0
