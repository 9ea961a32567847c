"""Vendor token formats for the leak scan, from the public rule sets (gitleaks' default rules, trufflehog's
detectors, detect-secrets' plugins): a fixed prefix, then a tail of known length and alphabet.

The scan does not run ~120 patterns over the text (an alternation of literals is slow in Python's ``re``):
it finds runs of token characters once and looks each run's first characters up in a table indexed by
prefix, so a format costs nothing until a run starts like it. Shared with nothing in ``medic.agent.redact``.
"""

from __future__ import annotations

import re

# (rule id, pattern); every pattern starts with a literal prefix of at least two characters.
_FORMATS: tuple[tuple[str, str], ...] = (
    ("github-pat", r"ghp_[0-9a-zA-Z]{36}"), ("github-oauth", r"gho_[0-9a-zA-Z]{36}"),
    ("github-app-token", r"ghu_[0-9a-zA-Z]{36}"), ("github-app-token", r"ghs_[0-9a-zA-Z]{36}"),
    ("github-refresh-token", r"ghr_[0-9a-zA-Z]{36}"), ("github-fine-grained-pat", r"github_pat_\w{60,90}"),
    ("gitlab-pat", r"glpat-[\w-]{20,}"), ("gitlab-deploy-token", r"gldt-[\w-]{20}"),
    ("gitlab-runner-token", r"glrt-[\w-]{20,}"), ("gitlab-ptt", r"glptt-[0-9a-f]{40}"),
    ("gitlab-rrt", r"GR1348941[\w-]{20}"), ("gitlab-cicd-job-token", r"glcbt-[0-9a-zA-Z]{1,5}_[\w-]{20}"),
    ("gitlab-feed-token", r"glft-[\w-]{20}"), ("gitlab-incoming-mail-token", r"glimt-[\w-]{25}"),
    ("gitlab-agent-token", r"glagent-[\w-]{50}"), ("gitlab-oauth-app-secret", r"gloas-[\w-]{64}"),
    ("gitlab-scim-token", r"glsoat-[\w-]{20}"), ("gitlab-feature-flag-token", r"glffct-[\w-]{20}"),
    ("slack-bot-token", r"xoxb-[0-9]{8,14}-[0-9a-zA-Z-]{10,}"), ("slack-user-token", r"xoxp-[0-9a-zA-Z-]{20,}"),
    ("slack-token", r"xoxa-[0-9a-zA-Z-]{10,}"), ("slack-token", r"xoxr-[0-9a-zA-Z-]{10,}"),
    ("slack-token", r"xoxe(?:\.xox[bp])?-[0-9a-zA-Z-]{10,}"), ("slack-token", r"xoxs-[0-9a-zA-Z-]{10,}"),
    ("slack-token", r"xoxo-[0-9a-zA-Z-]{10,}"), ("slack-app-token", r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+"),
    ("slack-webhook", r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}"),
    ("discord-webhook", r"discord(?:app)?\.com/api/webhooks/\d{15,20}/[\w-]{40,}"),
    ("stripe-key", r"sk_live_[a-zA-Z0-9]{10,99}"), ("stripe-key", r"sk_test_[a-zA-Z0-9]{10,99}"),
    ("stripe-key", r"sk_prod_[a-zA-Z0-9]{10,99}"), ("stripe-key", r"rk_live_[a-zA-Z0-9]{10,99}"),
    ("stripe-key", r"rk_test_[a-zA-Z0-9]{10,99}"), ("stripe-key", r"rk_prod_[a-zA-Z0-9]{10,99}"),
    ("stripe-webhook-secret", r"whsec_[a-zA-Z0-9]{24,}"),
    ("sendgrid-api-token", r"SG\.[\w-]{16,32}\.[\w-]{30,50}"),
    ("sendinblue-api-token", r"xkeysib-[a-f0-9]{64}-[a-zA-Z0-9]{16}"),
    ("mailgun-api-key", r"key-[a-f0-9]{32}"), ("mailersend-api-token", r"mlsn\.[a-f0-9]{64}"),
    ("npm-access-token", r"npm_[a-zA-Z0-9]{36}"), ("pypi-upload-token", r"pypi-AgEIcHlwaS5vcmc[\w-]{50,}"),
    ("rubygems-api-token", r"rubygems_[a-f0-9]{48}"), ("clojars-api-token", r"CLOJARS_[a-z0-9]{60}"),
    ("aws-access-key-id", r"AKIA[A-Z0-9]{16}"), ("aws-access-key-id", r"ASIA[A-Z0-9]{16}"),
    ("aws-access-key-id", r"ABIA[A-Z0-9]{16}"), ("aws-access-key-id", r"ACCA[A-Z0-9]{16}"),
    ("gcp-api-key", r"AIza[\w-]{35}"), ("gcp-oauth-client-secret", r"GOCSPX-[\w-]{28}"),
    ("google-oauth-access-token", r"ya29\.[\w-]{20,}"),
    ("vault-service-token", r"hvs\.[\w-]{24,}"), ("vault-batch-token", r"hvb\.[\w-]{60,}"),
    ("digitalocean-pat", r"dop_v1_[a-f0-9]{64}"), ("digitalocean-oauth-token", r"doo_v1_[a-f0-9]{64}"),
    ("digitalocean-refresh-token", r"dor_v1_[a-f0-9]{64}"), ("docker-pat", r"dckr_pat_[\w-]{27}"),
    ("shopify-token", r"shpat_[a-fA-F0-9]{32}"), ("shopify-token", r"shpca_[a-fA-F0-9]{32}"),
    ("shopify-token", r"shppa_[a-fA-F0-9]{32}"), ("shopify-shared-secret", r"shpss_[a-fA-F0-9]{32}"),
    ("anthropic-api-key", r"sk-ant-(?:api|admin)\d\d-[\w-]{30,}"),
    ("openai-api-key", r"sk-(?:proj|svcacct|admin)-[\w-]{40,}"),
    ("openai-api-key", r"sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20}"),
    ("openrouter-api-key", r"sk-or-v1-[a-f0-9]{64}"),
    ("huggingface-token", r"hf_[a-zA-Z]{34}"), ("huggingface-org-token", r"api_org_[a-zA-Z]{34}"),
    ("groq-api-key", r"gsk_[a-zA-Z0-9]{52}"), ("replicate-api-token", r"r8_[a-zA-Z0-9]{37}"),
    ("xai-api-key", r"xai-[a-zA-Z0-9]{80}"), ("perplexity-api-key", r"pplx-[a-zA-Z0-9]{48}"),
    ("langsmith-api-key", r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}"), ("pinecone-api-key", r"pcsk_\w{50,}"),
    ("age-secret-key", r"AGE-SECRET-KEY-1[0-9A-Z]{58}"), ("atlassian-api-token", r"ATATT3[\w=-]{100,}"),
    ("atlassian-api-token", r"ATAT[\w=-]{90,}"),
    ("bitbucket-app-password", r"ATBB[a-zA-Z0-9]{32}"),
    ("alibaba-access-key-id", r"LTAI[a-zA-Z0-9]{20}"), ("artifactory-api-key", r"AKCp[A-Za-z0-9]{69}"),
    ("artifactory-reference-token", r"cmVmd[A-Za-z0-9]{59}"), ("databricks-api-token", r"dapi[a-f0-9]{32}"),
    ("dynatrace-api-token", r"dt0c01\.[a-zA-Z0-9]{24}\.[a-zA-Z0-9]{64}"),
    ("easypost-api-token", r"EZAK[a-zA-Z0-9]{54}"), ("easypost-test-api-token", r"EZTK[a-zA-Z0-9]{54}"),
    ("flutterwave-secret-key", r"FLWSECK(?:_TEST)?-?[a-hA-H0-9]{12,32}"),
    ("flyio-access-token", r"fo1_[\w-]{43}"), ("flyio-access-token", r"fm1[ar]_[a-zA-Z0-9+/]{80,}"),
    ("flyio-access-token", r"fm2_[a-zA-Z0-9+/]{80,}"), ("frameio-api-token", r"fio-u-[\w=-]{64}"),
    ("grafana-cloud-api-token", r"glc_[A-Za-z0-9+/]{32,}"),
    ("grafana-service-account-token", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
    ("grafana-api-key", r"eyJrIjoi[A-Za-z0-9]{70,}"),
    ("harness-api-key", r"pat\.[\w-]{22}\.[a-zA-Z0-9]{24}\.[a-zA-Z0-9]{20}"),
    ("airtable-pat", r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}"), ("heroku-api-key-v2", r"HRKU-AA[\w-]{58}"),
    ("infracost-api-token", r"ico-[a-zA-Z0-9]{32}"), ("linear-api-key", r"lin_api_[a-zA-Z0-9]{40}"),
    ("notion-api-token", r"ntn_[0-9]{11}[A-Za-z0-9]{35}"),
    ("planetscale-token", r"pscale_(?:tkn|oauth|pw)_[\w=.-]{32,64}"),
    ("postman-api-token", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}"), ("prefect-api-token", r"pnu_[a-zA-Z0-9]{36}"),
    ("pulumi-api-token", r"pul-[a-f0-9]{40}"), ("readme-api-token", r"rdme_[a-z0-9]{70}"),
    ("scalingo-api-token", r"tk-us-[\w-]{48}"), ("sentry-user-token", r"sntryu_[a-f0-9]{64}"),
    ("sentry-org-token", r"sntrys_eyJ[a-zA-Z0-9+/=_]{50,}"),
    ("settlemint-token", r"sm_(?:aat|pat|sat)_[a-zA-Z0-9]{16}"),
    ("shippo-api-token", r"shippo_(?:live|test)_[a-fA-F0-9]{40}"),
    ("square-access-token", r"sq0atp-[\w-]{22,60}"), ("square-oauth-secret", r"sq0csp-[\w-]{40,50}"),
    ("square-access-token", r"EAAA[\w-]{60}"), ("facebook-page-access-token", r"EAA[MC][a-zA-Z0-9]{100,}"),
    ("doppler-api-token", r"dp\.(?:pt|st|ct|sa|scim|audit)\.[a-zA-Z0-9]{40,44}"),
    ("duffel-api-token", r"duffel_(?:live|test)_[\w=-]{43}"), ("openshift-user-token", r"sha256~[\w-]{43}"),
    ("twilio-api-key", r"SK[0-9a-fA-F]{32}"), ("new-relic-key", r"NRAK-[A-Z0-9]{27}"),
    ("new-relic-key", r"NRII-[\w-]{32}"), ("octopus-deploy-api-key", r"API-[A-Z0-9]{26}"),
    ("yandex-api-key", r"AQVN[\w-]{35,38}"), ("supabase-token", r"sbp_[a-f0-9]{40}"),
    ("supabase-token", r"sb_secret_[\w-]{30,}"), ("netlify-pat", r"nfp_[a-zA-Z0-9]{36}"),
    ("render-api-key", r"rnd_[a-zA-Z0-9]{32}"), ("tailscale-key", r"tskey-(?:api|auth|client)-[\w-]{20,}"),
    ("neon-api-key", r"napi_[a-z0-9]{64}"), ("buildkite-token", r"bkua_[a-f0-9]{40}"),
    ("circleci-pat", r"CCIPAT_\w{22}_[a-f0-9]{40}"), ("sonarqube-token", r"sq[upa]_[a-f0-9]{40}"),
    ("contentful-pat", r"CFPAT-[\w-]{43}"), ("figma-pat", r"figd_[\w-]{40}"),
    ("onepassword-service-token", r"ops_eyJ[a-zA-Z0-9+/]{250,}"),
    ("onepassword-secret-key", r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}"),
    ("mapbox-secret-token", r"sk\.eyJ[\w.-]{50,}"), ("cloudflare-origin-ca-key", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}"),
    ("telegram-bot-token", r"(?<=\d{8}:)AA[\w-]{33}|(?<=\d{9}:)AA[\w-]{33}|(?<=\d{10}:)AA[\w-]{33}"),
    ("braintree-access-token", r"access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}"),
    ("private-key-base64", r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,}"),
    ("tencent-secret-id", r"AKID[0-9a-zA-Z]{32}"), ("firebase-fcm-server-key", r"APA91b[\w-]{100,}"),
    ("yandex-iam-token", r"t1\.[\w-]+=*\.[\w-]{80,}=*"), ("scaleway-access-key", r"SCW[A-Z0-9]{17}"),
    ("akamai-client-token", r"akab-[a-z0-9]{16}-[a-z0-9]{16}"), ("deepseek-api-key", r"sk-[a-f0-9]{32}"),
    ("plaid-access-token", r"access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                           r"[0-9a-f]{4}-[0-9a-f]{12}"),
    ("klaviyo-private-key", r"pk_[a-z0-9]{34}"), ("clickup-token", r"pk_\d+_[A-Z0-9]{32}"),
    ("dropbox-token", r"sl\.[\w-]{130,}"), ("hubspot-pat", r"pat-(?:na|eu)\d-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                                               r"[0-9a-f]{4}-[0-9a-f]{12}"),
    ("honeycomb-key", r"hc[a-z]{2,4}_\w{40,}"), ("nuget-api-key", r"oy2[a-z0-9]{43}"),
    ("defined-networking-key", r"dnkey-[\w=-]{26}-[\w=-]{52}"), ("adobe-client-secret", r"p8e-[a-zA-Z0-9]{32}"),
    ("intra42-secret", r"s-s4t2(?:ud|af)-[a-f0-9]{64}"), ("new-relic-key", r"NRJS-[a-f0-9]{19}"),
    ("docker-oat", r"dckr_oat_[\w-]{20,}"), ("trello-token", r"ATTA[a-fA-F0-9]{64}"),
    ("onepassword-service-token", r"ops_eyJ[a-zA-Z0-9+/]{100,}"),
    # more vendors' formats from gitleaks' rules, trufflehog's detectors and noseyparker's rules
    ("sourcegraph-token", r"sgp_(?:local|[a-fA-F0-9]{16})_[a-fA-F0-9]{40}"),
    ("sourcegraph-token", r"sgp_[a-fA-F0-9]{40}"),
    ("sourcegraph-cody-token", r"slk_[a-f0-9]{64}"),
    ("authress-key", r"sc_[a-zA-Z0-9]{5,30}\.[a-zA-Z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[a-zA-Z0-9+/_=-]{30,120}"),
    ("authress-key", r"ext_[a-zA-Z0-9]{5,30}\.[a-zA-Z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[a-zA-Z0-9+/_=-]{30,120}"),
    ("authress-key", r"scauth_[a-zA-Z0-9]{5,30}\.[a-zA-Z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[a-zA-Z0-9+/_=-]{30,120}"),
    ("authress-key",
     r"authress_[a-zA-Z0-9]{5,30}\.[a-zA-Z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[a-zA-Z0-9+/_=-]{30,120}"),
    ("aws-bedrock-api-key", r"ABSK[A-Za-z0-9+/]{109,269}={0,2}"),
    ("aws-bedrock-api-key", r"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%-]*"),
    ("lob-api-key", r"live_[a-f0-9]{35}"), ("lob-api-key", r"test_[a-f0-9]{35}"),
    ("lob-pub-api-key", r"live_pub_[a-f0-9]{31}"), ("lob-pub-api-key", r"test_pub_[a-f0-9]{31}"),
    ("gocardless-api-token", r"live_(?=\S*[0-9])(?=\S*[A-Z])(?=\S*[a-z])[A-Za-z0-9_=-]{40}"),
    ("posthog-personal-key", r"phx_[a-zA-Z0-9_]{43,48}"), ("nvidia-api-key", r"nvapi-[a-zA-Z0-9_-]{64}"),
    ("elevenlabs-api-key", r"sk_[a-f0-9]{48}"), ("iexcloud-api-key", r"sk_[a-f0-9]{32}"),
    ("tickettailor-api-key", r"sk_[0-9]{3,5}_[0-9]{4,8}_[a-f0-9]{32}"),
    ("recharge-api-token", r"sk_(?:test_)?[0-9]x[0-9]_[a-fA-F0-9]{64}"), ("rootly-api-key", r"rootly_[a-f0-9]{64}"),
    ("saladcloud-api-key", r"salad_cloud_[a-z]{2,7}_[a-zA-Z0-9]{30,235}"),
    ("fleetbase-api-key", r"flb_live_[a-zA-Z0-9]{20}"), ("flexport-api-key", r"shltm_[a-zA-Z0-9_-]{40}"),
    ("nightfall-api-key", r"NF-[a-zA-Z0-9]{32}"),
    ("pixie-api-key", r"px-api-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    ("pixie-deploy-key", r"px-dep-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    ("apify-api-token", r"apify_api_[a-zA-Z0-9]{36}"),
    ("trufflehog-enterprise-key", r"thog-key-[0-9a-f]{16}"),
    ("trufflehog-enterprise-secret", r"thog-secret-[0-9a-f]{32}"),
    ("photoroom-api-key", r"sk_pr_[a-zA-Z0-9]{1,64}_[a-fA-F0-9]{40}"),
    ("bannerbear-api-key", r"bb_pr_[a-f0-9]{30}"), ("bannerbear-api-key", r"bb_ma_[a-f0-9]{30}"),
    ("besttime-api-key", r"pri_[a-f0-9]{32}"), ("stackhawk-api-key", r"hawk\.[a-zA-Z0-9]{20}\.[a-zA-Z0-9]{20}"),
    ("ubidots-token", r"BBFF-[a-zA-Z0-9]{30}"), ("teamwork-token", r"tkn\.v1_[a-zA-Z0-9]{60,80}"),
    ("spectralops-key", r"spu-[a-f0-9]{32}"),
    ("clickhouse-cloud-key", r"4b1d(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]{38}"),
    ("harness-api-key", r"sat\.[\w-]{22}\.[a-zA-Z0-9]{24}\.[a-zA-Z0-9]{20}"),
    ("typeform-api-token", r"tfp_[a-zA-Z0-9_=.-]{40,59}"), ("mailgun-pub-key", r"pubkey-[a-f0-9]{32}"),
    ("mapbox-public-token", r"pk\.[a-zA-Z0-9]{60}\.[a-zA-Z0-9]{22}"),
    ("new-relic-key", r"NRBR-[a-f0-9]{19}"), ("new-relic-key", r"NRRA-[a-f0-9]{42}"),
    ("doppler-service-token", r"dp\.st\.[a-z0-9_-]{2,35}\.[a-zA-Z0-9]{40,44}"),
    ("aws-appsync-api-key", r"da2-(?!abcdefgh)[a-z0-9]{26}"),  # (not the alphabet: documentation's placeholder)
    # formats seen alone in trufflehog's and noseyparker's detector tests (session 18)
    ("github-app-token", r"ghs_\w{37,251}"), ("bitbucket-datacenter-token", r"BBDC-[A-Za-z0-9+/]{44}"),
    ("buildkite-token", r"bkua_[a-z0-9]{40}"), ("rubygems-api-token", r"rubygems_[a-z0-9]{48}"),
    ("supabase-token", r"sbp_[a-z0-9]{40}"), ("figma-pat", r"fig[oup]_[\w=-]{40,}"),
    ("grafana-service-account-token", r"glsa_\w{32,64}"),
    ("postman-api-token", r"PMAK-(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{40,64}"),
    ("tailscale-key", r"tskey-(?=[\w-]*[0-9])(?=[\w-]*[A-Z])[\w-]{30,}"),
    ("sendinblue-api-token", r"xkeysib-(?=[\w-]*[0-9])(?=[\w-]*[A-Z])[\w-]{60,}"),
    ("apify-api-token", r"apify_api_[\w-]{36}"),
    ("square-access-token", r"EAAA(?=[\w-]*[0-9])(?=[\w-]*[A-Z])(?=[\w-]*[a-z])[\w-]{22,59}"),
    ("flutterwave-secret-key", r"FLWSECK-[a-z0-9]{32}-X"),
    ("salesforce-consumer-key", r"3MVG9[\w.]{60,}"), ("salesforce-refresh-token", r"5Aep8[\w.]{70,}"),
    ("zoho-token", r"1000\.[a-f0-9]{32}\.[a-f0-9]{32}"),
    ("airtable-oauth-token", r"oaa[A-Za-z0-9]{14}\.v1\.[\w.-]{50,}"),
    *(("vault-legacy-token", first + r"\.(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])"
       r"[A-Za-z0-9]{24,32}") for first in "sbr"),
    ("jwt", r"eyJ[\w-]{10,}={0,2}\.[\w-]{16,}={0,2}(?:\.[\w-]*={0,2})?(?!\.)"),
    # Discord bot tokens: a user id's 17-19 digits in base64 (its first two characters), then two more parts
    *(("discord-bot-token", first + r"[\w-]{21,26}\.[\w-]{6}\.[\w-]{27,38}")
      for first in ("MD", "MT", "MQ", "Mj", "Mz", "ND", "NT", "Nj", "Nz", "OD", "OT")),
)
# Formats recognised by a fragment inside the token rather than its first characters.
_INFIXES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("Q~", "azure-ad-client-secret", re.compile(r"[a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34}")),
    (".atlasv1.", "terraform-cloud-token", re.compile(r"[a-zA-Z0-9]{14}\.atlasv1\.[\w=-]{60,70}")),
    ("webhookb2/", "microsoft-teams-webhook", re.compile(r"webhook\.office\.com/webhookb2/[\w@-]{30,}")),
    ("-us", "mailchimp-api-key", re.compile(r"[0-9a-f]{32}-us\d{1,2}")),
    ("AZDO", "azure-devops-pat", re.compile(r"[a-zA-Z0-9]{76}AZDO[a-zA-Z0-9]{4}")),
    ("-NRMA", "new-relic-mobile-token", re.compile(r"[a-zA-Z0-9]{40,46}-NRMA")),
    ("_mmk", "maxmind-license-key", re.compile(r"[a-zA-Z0-9]{6}_[a-zA-Z0-9]{29}_mmk")),
    (".AgAB", "azure-entra-refresh-token", re.compile(r"[01]\.A[\w-]{30,}\.(?:1\.)?AgAB[\w.-]{50,}")),
)
_END = r"(?![A-Za-z0-9])"  # a token ends where its alphabet does


def _index() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for rule, pattern in _FORMATS:
        key = "AA" if pattern.startswith("(?<=") else pattern[0] + pattern[2] if pattern[1] == "\\" else pattern[:2]
        table.setdefault(key, []).append((rule, re.compile(pattern + _END)))
    return table


_BY_PREFIX = _index()
PREFIXES = frozenset(_BY_PREFIX)  # a run's first two characters that vendor_token tries formats for
INFIXES = _INFIXES
_FILLER = re.compile(r"([0-9A-Za-z])\1{7}")  # 8 of one character: a placeholder's body, never a random one
_PEM_PRIVATE_B64 = "LS0tLS1CRUdJTi"  # base64 of "-----BEGIN" (a kubeconfig's client-key-data, a k8s Secret)


def vendor_token(text: str, start: int, run: str) -> str | None:
    """The rule id of the vendor token that starts at ``start`` (the start of ``run`` in ``text``), if any."""
    for rule, pattern in _BY_PREFIX.get(run[:2], ()):
        match = pattern.match(text, start)
        if match and _plausible(rule, match.group(0)):
            return rule
    return None


def infix_token(text: str, start: int, run: str) -> str | None:
    for needle, rule, pattern in _INFIXES:
        if needle in run and pattern.search(text, start, start + len(run)):
            return rule
    return None


def _plausible(rule: str, token: str) -> bool:
    """Reject the few shapes a real token never has: a base64 PEM that is not a private key, a tail of one
    repeated character or with 8 of one in a row (documentation's ``AKIAXXXXXXXXXXXXXXXX``, ``test_pub_000...``),
    documented example keys (AWS's ``...EXAMPLE``, Bedrock's ``ABSK...EXAMPLEEXAMPLE...``)."""
    if rule == "private-key-base64":
        return _decodes_to_private_key(token)
    tail = token[4:]
    return len(set(tail)) > 3 and "EXAMPLE" not in token and _FILLER.search(tail) is None


def _decodes_to_private_key(token: str) -> bool:
    import base64
    import binascii

    head = token[:96]
    try:
        decoded = base64.b64decode(head[: len(head) - len(head) % 4])
    except (binascii.Error, ValueError):
        return False
    return b"PRIVATE KEY" in decoded
