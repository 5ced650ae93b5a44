/**
 * Firewall block lists for the attacker and C2 addresses of a case: a plain
 * list, nftables, iptables/ip6tables, Windows netsh and PowerShell, and
 * Suricata/Snort drop rules.
 *
 * Safety: only strings that parse as IPv4/IPv6 addresses are written (these
 * files are run as shell/PowerShell, so nothing from evidence reaches them
 * unparsed); the addresses of compromised hosts (and hosts marked victim or
 * benign) are never included — blocking them would cut the responder off
 * from the hosts being cleaned; loopback, unspecified, broadcast and multicast
 * addresses are refused.
 */
import { HomeNet, ipToBigInt } from '../core/homenet.js';
import type { IncidentFile } from '../incident/types.js';

export type BlocklistFormat = 'plain' | 'nftables' | 'iptables' | 'netsh' | 'powershell' | 'suricata';
export const BLOCKLIST_FORMATS: BlocklistFormat[] = ['plain', 'nftables', 'iptables', 'netsh', 'powershell', 'suricata'];

export interface BlockEntry {
  ip: string;
  v: 4 | 6;
  role: 'attacker' | 'c2';
  /** True when the address lies inside the case's home networks (an internal attacker). */
  internal: boolean;
}

export interface BlockSelection {
  entries: BlockEntry[];
  excluded: { value: string; reason: string }[];
}

function reserved(ip: string): string | null {
  const p = ipToBigInt(ip)!;
  if (!p.v6) {
    const v = Number(p.value);
    if (v === 0) return 'unspecified address';
    if (v >>> 24 === 127) return 'loopback address';
    if (v === 0xffffffff) return 'broadcast address';
    if (v >>> 28 === 0xe) return 'multicast address';
    return null;
  }
  if (p.value === 0n) return 'unspecified address';
  if (p.value === 1n) return 'loopback address';
  if (p.value >> 120n === 0xffn) return 'multicast address';
  return null;
}

/** Canonical text of an address (IPv4 dotted quad without leading zeros; IPv6 lower case). */
function canonical(ip: string): string {
  const t = ip.trim();
  return t.includes(':') ? t.toLowerCase() : t.split('.').map((x) => String(Number(x))).join('.');
}

/** Which addresses to block, and what was left out and why. */
export function selectBlockAddresses(file: IncidentFile): BlockSelection {
  let home: HomeNet | null = null;
  try {
    home = new HomeNet(file.case?.home_nets?.length ? file.case.home_nets : undefined);
  } catch {
    home = null;
  }
  const protectedAddrs = new Set<string>();
  const candidates: { value: string; role: 'attacker' | 'c2' }[] = [];
  for (const inc of file.incidents ?? []) {
    for (const c of inc.compromised ?? []) {
      protectedAddrs.add(c.host);
      if (c.ip) protectedAddrs.add(c.ip);
    }
    for (const h of inc.hosts ?? []) {
      if (h.role === 'compromised' || h.role === 'victim' || h.role === 'benign') {
        protectedAddrs.add(h.host);
        if (h.ip) protectedAddrs.add(h.ip);
      }
      if (h.role === 'attacker' || h.role === 'c2') candidates.push({ value: h.ip ?? h.host, role: h.role });
    }
    for (const a of inc.attackers ?? []) candidates.push({ value: a, role: 'attacker' });
    for (const c of inc.c2 ?? []) candidates.push({ value: c, role: 'c2' });
  }
  const canonProtected = new Set([...protectedAddrs].filter((a) => ipToBigInt(a.trim())).map(canonical));
  const entries: BlockEntry[] = [];
  const excluded: { value: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const { value, role } of candidates) {
    const p = ipToBigInt(value.trim());
    if (!p) {
      if (!seen.has(`x|${value}`)) excluded.push({ value, reason: 'not an IP address' });
      seen.add(`x|${value}`);
      continue;
    }
    const ip = canonical(value);
    if (seen.has(ip)) continue;
    seen.add(ip);
    if (canonProtected.has(ip)) {
      excluded.push({ value: ip, reason: 'address of a compromised/victim host' });
      continue;
    }
    const r = reserved(ip);
    if (r) {
      excluded.push({ value: ip, reason: r });
      continue;
    }
    entries.push({ ip, v: p.v6 ? 6 : 4, role, internal: home ? home.isInternal(ip) : false });
  }
  return { entries, excluded };
}

function safeName(s: string): string {
  return (s || 'case').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40);
}

export function toBlocklist(file: IncidentFile, format: BlocklistFormat = 'plain'): string {
  const { entries, excluded } = selectBlockAddresses(file);
  const name = safeName(file.case?.id ?? 'case');
  const v4 = entries.filter((e) => e.v === 4);
  const v6 = entries.filter((e) => e.v === 6);
  const header = (c: string) =>
    [
      `${c} spoor block list for case ${name}: attacker and C2 addresses (${entries.length})`,
      ...entries.map((e) => `${c}   ${e.ip}  ${e.role}${e.internal ? ' (inside home_nets)' : ''}`),
      ...excluded.map((x) => `${c} not blocked: ${/^[\x20-\x7e]*$/.test(x.value) ? x.value.replace(/[^A-Za-z0-9.:_ -]/g, '?') : '(non-ASCII value)'} (${x.reason})`),
    ].join('\n');
  switch (format) {
    case 'plain':
      return entries.map((e) => e.ip).join('\n') + (entries.length ? '\n' : '');
    case 'nftables': {
      const lines = ['#!/usr/sbin/nft -f', header('#'), `table inet spoor_block`, `delete table inet spoor_block`, `table inet spoor_block {`];
      lines.push(`  set attackers_v4 {`, `    type ipv4_addr`, ...(v4.length ? [`    elements = { ${v4.map((e) => e.ip).join(', ')} }`] : []), `  }`);
      lines.push(`  set attackers_v6 {`, `    type ipv6_addr`, ...(v6.length ? [`    elements = { ${v6.map((e) => e.ip).join(', ')} }`] : []), `  }`);
      lines.push(
        `  chain input {`,
        `    type filter hook input priority -10; policy accept;`,
        `    ip saddr @attackers_v4 counter drop`,
        `    ip6 saddr @attackers_v6 counter drop`,
        `  }`,
        `  chain forward {`,
        `    type filter hook forward priority -10; policy accept;`,
        `    ip saddr @attackers_v4 counter drop`,
        `    ip daddr @attackers_v4 counter drop`,
        `    ip6 saddr @attackers_v6 counter drop`,
        `    ip6 daddr @attackers_v6 counter drop`,
        `  }`,
        `  chain output {`,
        `    type filter hook output priority -10; policy accept;`,
        `    ip daddr @attackers_v4 counter drop`,
        `    ip6 daddr @attackers_v6 counter drop`,
        `  }`,
        `}`,
      );
      return lines.join('\n') + '\n';
    }
    case 'iptables': {
      const lines = ['#!/bin/sh', header('#'), 'set -e'];
      for (const e of entries) {
        const cmd = e.v === 4 ? 'iptables' : 'ip6tables';
        const cm = `-m comment --comment "spoor ${name} ${e.role}"`;
        lines.push(`${cmd} -I INPUT -s ${e.ip} ${cm} -j DROP`, `${cmd} -I OUTPUT -d ${e.ip} ${cm} -j DROP`, `${cmd} -I FORWARD -s ${e.ip} ${cm} -j DROP`, `${cmd} -I FORWARD -d ${e.ip} ${cm} -j DROP`);
      }
      return lines.join('\n') + '\n';
    }
    case 'netsh': {
      const lines = [header('REM'), '@echo off'];
      if (entries.length) {
        const list = entries.map((e) => e.ip).join(',');
        lines.push(`netsh advfirewall firewall add rule name="spoor ${name} block inbound" dir=in action=block remoteip=${list}`);
        lines.push(`netsh advfirewall firewall add rule name="spoor ${name} block outbound" dir=out action=block remoteip=${list}`);
      }
      return lines.join('\r\n') + '\r\n';
    }
    case 'powershell': {
      const lines = [header('#')];
      if (entries.length) {
        lines.push(`$SpoorBlock = @(${entries.map((e) => `'${e.ip}'`).join(', ')})`);
        lines.push(`New-NetFirewallRule -DisplayName 'spoor ${name} block inbound' -Direction Inbound -Action Block -RemoteAddress $SpoorBlock -Profile Any`);
        lines.push(`New-NetFirewallRule -DisplayName 'spoor ${name} block outbound' -Direction Outbound -Action Block -RemoteAddress $SpoorBlock -Profile Any`);
      }
      return lines.join('\r\n') + '\r\n';
    }
    case 'suricata': {
      const lines = [header('#')];
      let sid = 9_100_001;
      for (const e of entries) {
        const role = e.role === 'c2' ? 'C2' : 'attacker';
        lines.push(`drop ip ${e.ip} any -> $HOME_NET any (msg:"spoor ${name} ${role} ${e.ip} inbound"; classtype:misc-attack; sid:${sid++}; rev:1; metadata:created_by spoor;)`);
        lines.push(`drop ip $HOME_NET any -> ${e.ip} any (msg:"spoor ${name} ${role} ${e.ip} outbound"; classtype:trojan-activity; sid:${sid++}; rev:1; metadata:created_by spoor;)`);
      }
      return lines.join('\n') + '\n';
    }
  }
}
