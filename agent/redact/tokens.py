"""Vendor token formats, found by shape with no key name near (gitleaks, detect-secrets, trufflehog formats).

Speed: one pass finds long token-like words; only a word whose first two characters start a known prefix is
tried against that prefix's patterns, so log text costs one regex scan whatever the number of vendors.
A word that starts with a lower-case vendor-style prefix (``abc_``, ``abc-``) followed by a long random body
is taken as a token too: vendors not in the table still get caught.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

from medic.agent import firstpass
from medic.agent.charruns import Alphabet
from medic.agent.redact.references import documented_example

# After a prefix: not a placeholder body (8 of one character in a row anywhere: ghp_xxxxxxxx..., sgp_5555aaaaaaaa...;
# an alphabet or digits in order: da2-abcdefghijklmnopqrstuvwxyz)
_NOT_FILLER = r"(?![\w.=+/-]*?(?:(\w)\1{7}|abcdefgh|ABCDEFGH|12345678))"
# a body that mixes upper case, lower case and digits (for prefixes an identifier could start with: live_)
_MIXED = r"(?=[\w=-]*[0-9])(?=[\w=-]*[A-Z])(?=[\w=-]*[a-z])"
# a placeholder in a token's shape, `ghp_xxxxxxxx...`, `AKIAXXXXXXXXXXXXXXXX`: six x in a row after the first two
# characters (a random body has that once in ~10**10 tokens; only x, as a run of A is base64's zero bytes: fm2_)
_PLACEHOLDER_X = re.compile(r"x{6}|X{6}")
# name -> patterns (each matched at the start of a token-like word; it must end at a word boundary)
_FORMATS: dict[str, tuple[str, ...]] = {
    "github_token": (r"gh[pousr]_[A-Za-z0-9_]{36,251}", r"github_pat_[A-Za-z0-9_]{60,255}"),
    "npm_token": (r"npm_[A-Za-z0-9]{36}",),
    "gitlab_token": (r"gl(?:pat|dt|rt|ptt|ft|imt|oas|cbt|soat|ffct|agent)-[\w.-]{20,}", r"GR1348941[\w-]{20,}"),
    "aws_access_key_id": (r"(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}",),
    "gcp_api_key": (r"AIza[\w-]{35}",),
    "gcp_oauth_client_secret": (r"GOCSPX-[\w-]{28}",),
    "gcp_access_token": (r"ya29\.[\w-]{20,}",),
    "azure_client_secret": (r"[\w~.-]{3}\dQ~[\w~.-]{31,34}",),
    "alibaba_access_key_id": (r"LTAI[A-Za-z0-9]{12,20}",),
    "tencent_secret_id": (r"AKID[A-Za-z0-9]{32}",),
    "yandex_key": (r"AQVN[\w-]{35,38}", r"YC[\w-]{38}", r"t1\.[A-Z0-9a-z_-]+=*\.[A-Z0-9a-z_-]{86}=*"),
    "scaleway_access_key": (r"SCW[A-Z0-9]{17}",),
    "digitalocean_token": (r"do[opr]_v1_[a-f0-9]{64}",),
    "heroku_token": (r"HRKU-AA[\w-]{58}",),
    "cloudflare_origin_ca_key": (r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}",),
    "akamai_client_token": (r"akab-[a-z0-9]{16}-[a-z0-9]{16}",),
    "netlify_token": (r"nfp_[A-Za-z0-9]{36}",),
    "fly_token": (r"fo1_[\w-]{43}", r"fm[12][ar]?_[\w+/=-]{100,}"),
    "render_token": (r"rnd_[A-Za-z0-9]{32}",),
    "supabase_token": (r"sbp_[a-z0-9]{40}", r"sb_secret_[\w-]{31,}"),
    "neon_token": (r"napi_[a-z0-9]{64}",),
    "planetscale_token": (r"pscale_(?:tkn|pw|oauth)_[\w=.-]{32,64}",),  # ("=" inside: gitleaks' alphabet)
    "databricks_token": (r"dapi[a-f0-9]{32}(?:-\d)?",),
    "pinecone_key": (r"pcsk_[A-Za-z0-9]{4,8}_[A-Za-z0-9]{50,}",),
    "openai_key": (r"sk-(?:proj-|svcacct-|admin-|None-)?[\w-]{20,}T3BlbkFJ[\w-]{20,}",
                   r"sk-(?:proj|svcacct|admin)-[\w-]{40,}"),
    "anthropic_key": (r"sk-ant-(?:api|admin|sid)\d\d-[\w-]{80,}",),
    "deepseek_key": (r"sk-[a-f0-9]{32}",),
    "groq_key": (r"gsk_[A-Za-z0-9]{52}",),
    "xai_key": (r"xai-[A-Za-z0-9]{80}",),
    "replicate_token": (r"r8_[A-Za-z0-9]{37}",),
    "perplexity_key": (r"pplx-[A-Za-z0-9]{48}",),
    "huggingface_token": (r"hf_[A-Za-z0-9]{34}", r"api_org_[A-Za-z0-9]{34}"),
    "langsmith_key": (r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}",),
    "fireworks_key": (r"fw_[A-Za-z0-9]{24}",),
    "slack_token": (r"xox[abposre]-[\w-]{10,}", r"xox[abposre]\.xox[a-z]-[\w-]{20,}", r"xapp-\d{1,12}-[\w/-]{20,}"),
    # (the first part is a user id's digits in base64: "1..." is MT, "2..." Mj ... "9..." OT; 17 to 19 digits)
    "discord_bot_token": (r"M[TQ][\w-]{22,26}\.[\w-]{6}\.[\w-]{27,38}",
                          r"(?:MD|MT|Mj|Mz|ND|NT|Nj|Nz|OD|OT)[\w-]{21,24}\.[\w-]{6}\.[\w-]{27,38}"),
    "twilio_key": (r"SK[0-9a-f]{32}",),
    "sendgrid_key": (r"SG\.[\w-]{16,32}\.[\w-]{16,64}",),
    "mailgun_key": (r"key-[0-9a-f]{32}", r"pubkey-" + _NOT_FILLER + r"[0-9a-f]{32}"),
    "mailchimp_key": (r"[0-9a-f]{32}-us\d{1,2}",),
    "mandrill_key": (r"md-[\w-]{22}",),
    "brevo_key": (r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}", r"xkeysib-" + _MIXED + r"[\w-]{60,}"),
    "stripe_key": (r"(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{16,247}", r"whsec_[A-Za-z0-9+/=]{24,}"),
    "square_token": (r"EAAA" + _MIXED + r"[\w-]{22,60}", r"sq0(?:atp|csp)-[\w-]{22,43}"),
    "flutterwave_key": (r"FLW(?:SECK|PUBK)(?:_TEST)?-?[a-z0-9]{12,32}(?:-X)?",),
    "plaid_token": (r"access-(?:sandbox|development|production)-[a-f0-9]{8}-(?:[a-f0-9]{4}-){3}[a-f0-9]{12}",),
    "shippo_token": (r"shippo_(?:live|test)_[a-f0-9]{40}",),
    "duffel_token": (r"duffel_(?:live|test)_[\w=-]{43}",),
    "easypost_key": (r"EZ[AT]K[A-Za-z0-9]{54}",),
    "shopify_token": (r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",),
    "klaviyo_key": (r"pk_[a-f0-9]{34}",),
    "atlassian_token": (r"ATATT3[\w=-]{50,}", r"ATCTT3[\w=-]{50,}", r"ATAT[\w=-]{90,}"),
    "azure_devops_pat": (r"[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}",),  # the 84-character PATs since 2024
    "trello_token": (r"ATTA[a-f0-9]{64}",),
    "linear_key": (r"lin_(?:api|oauth)_[A-Za-z0-9]{40}",),
    "notion_token": (r"ntn_\d{11}[A-Za-z0-9]{35}", r"secret_[A-Za-z0-9]{43}"),
    "airtable_token": (r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}",),
    "clickup_token": (r"pk_\d{6,10}_[A-Z0-9]{32}",),
    "figma_token": (r"fig[doup]_[\w=-]{40,}",),
    "typeform_token": (r"tfp_[\w-]{44}_[\w-]{14}", r"tfp_" + _NOT_FILLER + r"[\w=.-]{40,59}"),
    "contentful_token": (r"CFPAT-[\w-]{43}",),
    "dropbox_token": (r"sl\.[\w=-]{130,152}",),
    "hubspot_token": (r"pat-(?:na|eu)\d-[a-f0-9]{8}-(?:[a-f0-9]{4}-){3}[a-f0-9]{12}",),
    "facebook_token": (r"EAA[A-Za-z]{1,4}[A-Za-z0-9]{40,}",),
    "twitter_bearer": (r"A{22}[A-Za-z0-9%]{80,}",),
    "mapbox_token": (r"[st]k\.eyJ[\w-]{20,}\.[\w-]{20,}", r"pk\." + _NOT_FILLER + r"[A-Za-z0-9]{60}\.[A-Za-z0-9]{22}"),
    "newrelic_key": (r"NR(?:AK|II|JS|AA|IQ)-[\w-]{19,32}", r"NRBR-[a-f0-9]{19}", r"NRRA-[a-f0-9]{42}"),
    "grafana_token": (r"glc_[A-Za-z0-9+/]{32,400}=*", r"glsa_" + _NOT_FILLER + r"[A-Za-z0-9_]{32,64}",
                      r"eyJrIjoi[A-Za-z0-9+/]{50,400}=*"),
    "sentry_token": (r"sntrys_eyJ[\w+/=]{50,}", r"sntryu_[a-f0-9]{64}"),
    "dynatrace_token": (r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}",),
    "honeycomb_key": (r"hca[ikx]k_[a-z0-9]{58}",),
    "circleci_token": (r"CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}",),
    "buildkite_token": (r"bkua_[a-z0-9]{40}",),
    "sonarqube_token": (r"sq[upa]_[a-f0-9]{40}",),
    "docker_hub_token": (r"dckr_(?:pat|oat)_[\w-]{20,}",),
    "artifactory_token": (r"AKCp[A-Za-z0-9]{69}", r"cmVmdGtu[A-Za-z0-9]{56}"),
    "nuget_key": (r"oy2[a-z0-9]{43}",),
    "rubygems_key": (r"rubygems_[a-z0-9]{48}",),
    "pypi_token": (r"pypi-AgEIcHlwaS5vcmc[\w-]{50,}",),
    "clojars_token": (r"CLOJARS_[a-z0-9]{60}",),
    "octopus_key": (r"API-[A-Z0-9]{26}",),
    "pulumi_token": (r"pul-[a-f0-9]{40}",),
    "postman_key": (r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", r"PMAK-" + _MIXED + r"[A-Za-z0-9]{40,64}"),
    "prefect_key": (r"pnu_[A-Za-z0-9]{36}",),
    "terraform_token": (r"[A-Za-z0-9]{14}\.atlasv1\.[\w=-]{60,70}",),
    "vault_token": (r"hv[sbr]\.[\w-]{24,}",),
    "doppler_token": (r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}",
                      r"dp\.st\.[a-z0-9_-]{2,35}\." + _NOT_FILLER + r"[A-Za-z0-9]{40,44}"),  # a config's service token
    "onepassword_token": (r"ops_eyJ[\w+/=]{100,}",
                          r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})(?:-[A-Z0-9]{5}){3}"),
    "tailscale_key": (r"tskey-(?:auth|api|client|scim|webhook)-[\w-]{20,}", r"tskey-" + _MIXED + r"[\w-]{30,}"),
    "openshift_token": (r"sha256~[\w-]{43}",),
    "harness_token": (r"pat\.[\w-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
                      r"sat\.[\w-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}"),
    "defined_networking_key": (r"dnkey-[a-z0-9=_-]{26}-[a-z0-9=_-]{52}",),
    "adobe_secret": (r"p8e-[a-z0-9]{32}",),
    "frameio_token": (r"fio-u-[\w=-]{64}",),
    "intra42_secret": (r"s-s4t2(?:ud|af)-[a-f0-9]{64}",),
    "readme_key": (r"rdme_[a-z0-9]{70}",),
    "scalingo_token": (r"tk-us-[\w-]{48}",),
    "settlemint_token": (r"sm_(?:pat|aat|sat)_[A-Za-z0-9]{16}",),
    "infracost_key": (r"ico-[A-Za-z0-9]{32}",),
    "age_secret_key": (r"AGE-SECRET-KEY-1[0-9A-Z]{58}",),
    "jwt": (r"eyJ[\w-]{8,}={0,2}\.eyJ[\w-]{8,}={0,2}\.[\w-]*={0,2}",  # (and unsigned, "=" padded: never a part left)
            r"eyJ[\w-]{10,}={0,2}\.[\w-]{16,}={0,2}(?:\.[\w-]*={0,2})?(?!\.)"),
    "django_secret_key": (r"django-insecure-\S{40,}",),
    "upstash_token": (r"AX[\w-]{60,}=",),
    "asana_token": (r"1/\d{14,16}:[a-f0-9]{32}", r"2/\d{14,16}/\d{14,16}:[a-f0-9]{32}"),
    # formats of the public scanners' rules and tests (gitleaks, trufflehog, noseyparker) the table lacked
    "openrouter_key": (r"sk-or-v1-" + _NOT_FILLER + r"[a-f0-9]{64}",),
    "mailersend_token": (r"mlsn\." + _NOT_FILLER + r"[a-f0-9]{64}",),
    "bitbucket_app_password": (r"ATBB" + _NOT_FILLER + r"[A-Za-z0-9]{28,60}",),
    "bitbucket_dc_token": (r"BBDC-" + _NOT_FILLER + r"[A-Za-z0-9+/]{44}",),
    "slack_webhook": (r"hooks\.slack\.com/(?:services|workflows|triggers)/" + _NOT_FILLER + r"[\w+/-]{20,}",),
    "discord_webhook": (r"discord(?:app)?\.com/api/webhooks/\d{15,20}/[\w-]{40,}",),
    "sourcegraph_token": (r"sgp_(?:[a-fA-F0-9]{16}|local)_" + _NOT_FILLER + r"[a-fA-F0-9]{40}",
                          r"sgp_" + _NOT_FILLER + r"[a-fA-F0-9]{40}", r"slk_" + _NOT_FILLER + r"[a-f0-9]{64}"),
    "authress_key": tuple(prefix + r"_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[\w+/=-]{30,120}"
                          for prefix in ("sc", "ext", "scauth", "authress")),
    "aws_bedrock_key": (r"ABSK(?![A-Za-z0-9+/]*EXAMPLE)" + _NOT_FILLER + r"[A-Za-z0-9+/]{109,269}={0,2}",
                        r"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%&.-]*"),
    "lob_key": tuple(prefix + _NOT_FILLER + body for prefix in ("live_", "test_", "live_pub_", "test_pub_")
                     for body in [r"[a-f0-9]{35}" if len(prefix) == 5 else r"[a-f0-9]{31}"]),
    "gocardless_token": (r"live_" + _MIXED + r"[\w=-]{40}",),
    "posthog_key": (r"phx_" + _NOT_FILLER + r"[A-Za-z0-9_]{43,48}",),
    "nvidia_key": (r"nvapi-" + _NOT_FILLER + r"[\w-]{64}",),
    "elevenlabs_key": (r"sk_" + _NOT_FILLER + r"[a-f0-9]{48}",),
    "iexcloud_key": (r"sk_" + _NOT_FILLER + r"[a-f0-9]{32}",),
    "tickettailor_key": (r"sk_\d{3,5}_\d{4,8}_" + _NOT_FILLER + r"[a-f0-9]{32}",),
    "recharge_token": (r"sk_(?:test_)?\dx\d_" + _NOT_FILLER + r"[a-fA-F0-9]{64}",),
    "rootly_key": (r"rootly_" + _NOT_FILLER + r"[a-f0-9]{64}",),
    "salad_key": (r"salad_cloud_[a-z]{2,7}_" + _NOT_FILLER + r"[A-Za-z0-9]{30,235}",),
    "fleetbase_key": (r"flb_live_" + _NOT_FILLER + r"[A-Za-z0-9]{20}",),
    "flexport_key": (r"shltm_" + _NOT_FILLER + r"[\w-]{40}",),
    "nightfall_key": (r"NF-" + _NOT_FILLER + r"[A-Za-z0-9]{32}",),
    "pixie_key": (r"px-api-[a-f0-9]{8}-(?:[a-f0-9]{4}-){3}[a-f0-9]{12}",
                  r"px-dep-[a-f0-9]{8}-(?:[a-f0-9]{4}-){3}[a-f0-9]{12}"),
    "apify_token": (r"apify_api_" + _NOT_FILLER + r"[\w-]{36}",),
    "trufflehog_key": (r"thog-key-[a-f0-9]{16}", r"thog-secret-[a-f0-9]{32}"),
    "photoroom_key": (r"sk_pr_[A-Za-z0-9]{1,64}_" + _NOT_FILLER + r"[a-fA-F0-9]{40}",),
    "bannerbear_key": (r"bb_pr_" + _NOT_FILLER + r"[a-f0-9]{30}", r"bb_ma_" + _NOT_FILLER + r"[a-f0-9]{30}"),
    "besttime_key": (r"pri_" + _NOT_FILLER + r"[a-f0-9]{32}",),
    "stackhawk_key": (r"hawk\.[A-Za-z0-9]{20}\.[A-Za-z0-9]{20}",),
    "ubidots_token": (r"BBFF-" + _NOT_FILLER + r"[A-Za-z0-9]{30}",),
    "teamwork_token": (r"tkn\.v1_" + _NOT_FILLER + r"[A-Za-z0-9]{60,80}={0,2}",),
    "spectralops_key": (r"spu-" + _NOT_FILLER + r"[a-f0-9]{32}",),
    "clickhouse_key": (r"4b1d" + _MIXED + r"[A-Za-z0-9]{38}",),
    "aws_appsync_key": (r"da2-" + _NOT_FILLER + r"[a-z0-9]{26}",),
    # more formats of trufflehog's and noseyparker's detectors, seen alone in their test inputs (session 18)
    "vault_legacy_token": (r"s\." + _MIXED + r"[A-Za-z0-9]{24,32}", r"b\." + _MIXED + r"[A-Za-z0-9]{24,32}",
                           r"r\." + _MIXED + r"[A-Za-z0-9]{24,32}",
                           r"s\.CAES[\w-]{40,}"),
    "salesforce_token": (r"3MVG9[\w.]{60,}", r"5Aep8[\w.]{70,}"),
    "zoho_token": (r"1000\.[a-f0-9]{32}\.[a-f0-9]{32}",),
    "airtable_oauth_token": (r"oaa[A-Za-z0-9]{14}\.v1\.[\w.-]{50,}",),
    "newrelic_mobile_token": (r"[A-Za-z0-9]{40,46}-NRMA",),
    "maxmind_license_key": (r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk",),
    "azure_entra_token": (r"[01]\.A[\w-]{30,}\.(?:1\.)?AgAB[\w.-]{50,}",),
}
_TAIL = r"(?![\w+/=~-])"  # a token ends where its alphabet does
_GLUED = re.compile(r"(?:[!*^$|]+[\w+/=~.-]+)+")  # ... unless a mark glues more of it on (never a part left)
_BY_PREFIX: dict[str, list[tuple[str, re.Pattern[str]]]] = {}


def _prefixes(pattern: str) -> list[str]:
    """The possible first two characters of ``pattern`` (literal, an alternation or a small class)."""
    head = re.match(r"\(\?:([\w|]+)\)", pattern)
    if head:
        return sorted({alt[:2] for alt in head.group(1).split("|")})
    if re.match(r"\w\\\.", pattern):  # "s\." (Vault's legacy tokens)
        return [pattern[0] + "."]
    if re.match(r"[\w-][\w/-]", pattern) and "\\" not in pattern[:2]:  # ("1/": Asana's, a path's "/" is not one)
        return [pattern[:2]]
    if re.match(r"[\w-]\[[\w]+\]", pattern):
        return [pattern[0] + c for c in re.match(r"[\w-]\[(\w+)\]", pattern).group(1)]  # type: ignore[union-attr]
    return []


_UNPREFIXED: list[tuple[str, re.Pattern[str]]] = []
for _name, _patterns in _FORMATS.items():
    for _pattern in _patterns:
        _compiled = re.compile(_pattern + _TAIL)
        _firsts = _prefixes(_pattern)
        for _first in _firsts:
            _BY_PREFIX.setdefault(_first, []).append((_name, _compiled))
        if not _firsts:
            _UNPREFIXED.append((_name, _compiled))

# A token-like word: 16+ characters of a token alphabet, not inside a longer word
CANDIDATE = re.compile(r"(?<![\w.~+/%-])[\w~.-][\w.~+/%-]{15,}")
_TOKEN_ALPHABET = Alphabet(string.ascii_letters + string.digits + "_.~+/%-")  # CANDIDATE's, in ASCII
# unknown vendors: a short lower-case prefix, a separator, then a long random body
_GENERIC = re.compile(r"[a-z][a-z0-9]{1,9}(?:[_-][a-z0-9]{2,9})?[_-](?P<body>[A-Za-z0-9]{24,})" + _TAIL)
# public or non-secret ids that share that shape
_GENERIC_PUBLIC = ("pk_live_", "pk_test_", "cus_", "sha", "ami-", "vpc-", "subnet-", "sg-", "i-", "acct_", "price_",
                   "prod_", "ch_", "pi_", "in_", "sub_", "evt_", "wwn-", "nvme-", "ata-", "scsi-", "usb-", "pci-")


def _random_body(body: str) -> bool:
    classes = sum(1 for test in (str.isupper, str.islower, str.isdigit) if any(test(c) for c in body))
    switches = sum(1 for i in range(1, len(body))  # (no itertools.pairwise: the agent runs on Python 3.9)
                   if body[i].isdigit() != body[i - 1].isdigit() or body[i].isupper() != body[i - 1].isupper())
    return classes == 3 and switches >= len(body) // 4


def _generic_possible(word: str) -> bool:
    """Whether _GENERIC can match this word and pass _random_body: a lower-case start, a separator early, and an
    upper-case letter somewhere (a body in one case fails _random_body: UUIDs, `session-5.scope`, package names)."""
    return word[0].islower() and ("_" in word[1:12] or "-" in word[1:12]) and not word.islower()


def _literal(pattern: str) -> str:
    """The literal text every match of ``pattern`` starts with ("gh" for gh[pousr]_...)."""
    return re.match(r"[\w-]*", pattern).group(0).rstrip("-") if "\\" not in pattern[:2] else ""  # type: ignore[union-attr]


_LITERALS = {id(p): _literal(p.pattern) for group in _BY_PREFIX.values() for _, p in group}
# the public head of a format, left in place (as rules.py's URL forms leave it)
_PUBLIC_HEAD = {"slack_webhook": re.compile(r"hooks\.slack\.com/\w+/"),
                "discord_webhook": re.compile(r"discord(?:app)?\.com/api/webhooks/")}
# a fragment each unprefixed format contains, tested on the word before its regular expression runs
_INSIDE = {"azure_client_secret": "Q~", "azure_devops_pat": "AZDO", "mailchimp_key": "-us",
           "twitter_bearer": "AAAAAAAAAA", "mapbox_token": "k.eyJ", "terraform_token": ".atlasv1.",
           "newrelic_mobile_token": "-NRMA", "maxmind_license_key": "_mmk", "azure_entra_token": ".AgAB"}

# any fragment of an unprefixed format (an empty one, for a format without a fragment, lets every word through)
_FRAGMENT = re.compile("|".join(sorted({re.escape(_INSIDE.get(name, "")) for name, _ in _UNPREFIXED})))


def _match(text: str, start: int, word: str) -> tuple[str, int] | None:
    for name, pattern in _BY_PREFIX.get(text[start: start + 2], ()):
        if text.startswith(_LITERALS[id(pattern)], start):
            match = pattern.match(text, start)
            if match:
                return name, match.end()
    for name, pattern in _UNPREFIXED:
        if _INSIDE.get(name, "") in word:
            match = pattern.match(text, start)
            if match:
                return name, match.end()
    if _generic_possible(word):
        generic = _GENERIC.match(text, start)
        if generic and _random_body(generic.group("body")) and not text.startswith(_GENERIC_PUBLIC, start):
            return "vendor_token", generic.end()
    return None


def _candidates(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each ``CANDIDATE`` match. On ASCII text a match is a whole run of the token alphabet
    (the look-behind rules out any later start), 16 or more long, not starting with ``+``, ``/`` or ``%``:
    found as runs (:mod:`~medic.agent.charruns`, several times faster than the regular expression)."""
    if not text.isascii():  # \w takes letters outside ASCII too
        yield from (word.span() for word in CANDIDATE.finditer(text))
        return
    for start, end in _TOKEN_ALPHABET.runs(text, 16):
        if text[start] not in "+/%":
            yield start, end


# The compiled first pass (medic.agent.firstpass) finds the words find's test below lets through, in one scan of an
# ASCII text instead of a Python step per word: a word (a maximal run: a character outside the alphabet or the
# line's start before it) starting with a prefix of _BY_PREFIX, a fragment anywhere in one, or _GENERIC's shape (a
# lower-case letter, a separator among the next 11 characters, an upper-case letter after it: _random_body wants
# one in the body). Each hit's last character is in the word, and find's own test then runs on that word as before.
# (A prefixed format is tried only on a word starting with its literal, when it has one longer than its prefix;
# a word is 16 characters at least.)
_OUTSIDE, _IN = "(?:^|[^A-Za-z0-9_.~+/%-]|//)", "[A-Za-z0-9_.~+/%-]"  # (//: a URL's authority, find's test)
_FRAGMENTS = sorted({_INSIDE.get(name, "") for name, _ in _UNPREFIXED})
_STARTS = sorted({_LITERALS[id(p)] if len(_LITERALS[id(p)]) > 2 else first
                  for first, group in _BY_PREFIX.items() for _, p in group})


def _words_matcher() -> firstpass.Matcher:
    return firstpass.Matcher([
        _OUTSIDE + "(?:" + "|".join(re.escape(start) + (f"{_IN}{{{16 - len(start)}}}" if len(start) < 16 else "")
                            for start in _STARTS) + ")",
        "|".join(re.escape(fragment) for fragment in _FRAGMENTS),
        f"{_OUTSIDE}[a-z]{_IN}{{0,10}}[_-]{_IN}*[A-Z]",
    ], multiline=True)


def _words(text: str) -> Iterator[tuple[int, int]]:
    """The spans of an ASCII text's token-like words worth a look: the compiled pass's, or all of them (in a short
    text, a few words: fewer steps than a scan's call)."""
    compiled = (firstpass.matcher("vendor-words", _words_matcher, heavy=len(text))
                if "" not in _FRAGMENTS and len(text) > 512 else None)
    if compiled is None:  # (an unprefixed format without a fragment: every word is worth a look)
        return _TOKEN_ALPHABET.runs(text, 16)
    hits = compiled.scan(firstpass.one_byte_per_character(text))
    return _TOKEN_ALPHABET.runs_at(text, iter(sorted({end - 1 for _, end in hits})), 16)


def find(text: str) -> Iterator[tuple[str, int, int]]:
    """(rule, start, end) of every vendor token in ``text``, left to right, never overlapping."""
    pos = 0
    spans = _words(text) if text.isascii() else _candidates(text)
    for start, end in spans:
        if text.startswith("//", start) and end - start >= 18:  # a URL's authority: http://TOKEN@host,
            start += 2  # http://hooks.slack.com/... (off ASCII, CANDIDATE never starts there: those are missed)
        if start < pos or text[start] in "+/%":  # (CANDIDATE never starts with these: a no-op off ASCII)
            continue
        word = text[start:end]
        if word[:2] not in _BY_PREFIX and not _FRAGMENT.search(word) and not _generic_possible(word):
            continue  # most words of a log: _match would try nothing (the same tests, cheaper)
        found = _match(text, start, word)
        if found and found[0] in _PUBLIC_HEAD:  # a webhook's host and path stay: they say what the secret was
            start = _PUBLIC_HEAD[found[0]].match(text, start).end()  # type: ignore[union-attr]
        if found and not ((found[0] == "aws_access_key_id" and documented_example(text[start:found[1]]))
                          or _PLACEHOLDER_X.search(text, start + 2, found[1])):
            glued = _GLUED.match(text, found[1])  # "...XYZ!4o_Nm": more of the value after a joining mark
            pos = found[1] if glued is None else glued.end()
            yield found[0], start, pos
