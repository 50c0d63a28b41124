//! Credential-variable rules, generated from the catalog's provider data instead of written
//! per provider: a high-entropy literal assigned to a provider's own variable (its env vars and
//! extra `variables`) or passed to its SDK (`sdk_args`) is that provider's credential, even when
//! its format is unknown or new. The rules are fallbacks: any format rule that reports the same
//! secret wins, and references (`os.environ[...]`, `${X}`) and placeholders never match.

use std::collections::BTreeMap;

use crate::detect::schema::{
    Confidence, ContextMode, Examples, Filters, Provider, RuleSpec, Severity,
};

/// A literal value: what keys are made of, 16 to 256 characters. No `/`: a model id
/// (`hexgrad/Kokoro-82M`) passed next to a variable name is no key, and keys with `/` in them
/// (AWS secrets) have rules of their own.
const VALUE: &str = r#"([A-Za-z0-9_\-.+=]{16,256})(?:[\\"'`,;#})\]\s]|$)"#;
/// The fewest characters [`VALUE`] matches: what [`RuleSpec::value_after_literal`] asks for.
const VALUE_MIN: usize = 16;

/// After a variable name: an optional closing quote or bracket (`"X":`, `["X"] =`), then an
/// assignment in any of the usual syntaxes (`=`, `:`, `:=`, `=>`, a typed declaration, the
/// comma of `os.getenv("X", "...")`), then an optional opening quote.
const ASSIGNMENT: &str = r#"(?:\\?["'])?\]?[ \t]*(?::[ \t]*[&'A-Za-z_<>]{1,24}[ \t]*=|:=|=>|=|:|,|[ \t]+[A-Za-z]{1,12}[ \t]*=)[ \t]*(?:\\?["'`])?"#;

/// Names whose first word is shorter than this need a non-alphanumeric byte before them:
/// `HF_TOKEN` must not match inside `SHELF_TOKEN`, nor `CO_API_KEY` inside `DECO_API_KEY`.
pub(crate) const DISTINCT_WORD: usize = 4;

/// `text` as a regex matching it literally: every byte regex syntax gives a meaning is
/// escaped (the regex crate's own list; this module also runs in build.rs, without it).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '.'
                | '+'
                | '*'
                | '?'
                | '('
                | ')'
                | '|'
                | '['
                | ']'
                | '{'
                | '}'
                | '^'
                | '$'
                | '#'
                | '&'
                | '-'
                | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The generated rule of every provider that asks for one, in provider order.
pub fn generate(providers: &BTreeMap<String, Provider>) -> Vec<RuleSpec> {
    providers
        .iter()
        .filter(|(_, provider)| provider.variable_rule)
        .filter_map(|(key, provider)| rule_for(key, provider))
        .collect()
}

/// What the shared matcher (`variable_match.rs`) reads of each generated rule, in
/// [`generate`]'s order: its id, the provider's variable names and its SDK arguments as
/// written; `rule_for` builds the rule's regex from the same two lists.
pub fn shapes(providers: &BTreeMap<String, Provider>) -> Vec<(String, Vec<String>, Vec<String>)> {
    providers
        .iter()
        .filter(|(_, provider)| provider.variable_rule)
        .filter_map(|(key, provider)| {
            rule_for(key, provider)?;
            let (names, _) = names_and_calls(provider);
            let names = names.into_iter().map(str::to_string).collect();
            Some((rule_id(key), names, provider.sdk_args.to_vec()))
        })
        .collect()
}

/// A provider's variable names (env vars first) and its SDK arguments that parse.
fn names_and_calls(provider: &Provider) -> (Vec<&str>, Vec<SdkArg>) {
    let names = provider
        .env_vars
        .iter()
        .chain(provider.variables.iter())
        .map(String::as_str)
        .collect();
    let calls = provider
        .sdk_args
        .iter()
        .filter_map(|a| SdkArg::parse(a))
        .collect();
    (names, calls)
}

/// The id of a provider's generated rule.
pub fn rule_id(provider_key: &str) -> String {
    format!("{}-credential-variable", provider_key.replace('_', "-"))
}

fn rule_for(key: &str, provider: &Provider) -> Option<RuleSpec> {
    let (names, calls) = names_and_calls(provider);
    if names.is_empty() && calls.is_empty() {
        return None;
    }
    let mut alternatives: Vec<String> = Vec::new();
    if !names.is_empty() {
        let patterns: Vec<String> = names.iter().map(|n| name_pattern(n)).collect();
        alternatives.push(format!("(?i:{}){ASSIGNMENT}", patterns.join("|")));
        let flags: Vec<String> = names.iter().map(|n| flag_pattern(n)).collect();
        alternatives.push(format!(
            r#"(?i:--(?:{}))(?:=|[ \t]+)(?:["'])?"#,
            flags.join("|")
        ));
    }
    alternatives.extend(calls.iter().map(SdkArg::pattern));
    let regex = format!("(?:{}){VALUE}", alternatives.join("|"));
    let mut keywords: Vec<String> = names.iter().flat_map(|n| name_keywords(n)).collect();
    keywords.extend(calls.iter().map(|c| c.keyword()));
    keywords.sort();
    keywords.dedup();
    let mut literals: Vec<String> = names.iter().map(|n| literal(n)).collect();
    literals.extend(calls.iter().map(|c| literal(&c.written())));
    literals.sort();
    literals.dedup();
    Some(RuleSpec {
        id: rule_id(key),
        provider: key.to_string(),
        description: format!(
            "High-entropy literal assigned to a {} credential variable or SDK argument",
            provider.name
        )
        .into(),
        severity: Severity::High,
        confidence: Confidence::Medium,
        fallback: true,
        keywords,
        literals,
        value_after_literal: VALUE_MIN,
        regex: regex.into(),
        context: None,
        sources: vec![provider.docs.to_string()].into(),
        filters: Filters {
            entropy: Some(3.5),
            min_digits: 2,
            reject_identifiers: true,
            ..Filters::default()
        },
        placeholders: Vec::new().into(),
        verify: None.into(),
        examples: Some(examples(&names, &calls)).into(),
    })
}

/// What every match of a name or call holds, as [`RuleSpec::literals`] are written:
/// `TOGETHER_API_KEY` -> `together_api_key`, `genai.configure(` -> `genai_configure(`.
fn literal(text: &str) -> String {
    text.to_ascii_lowercase()
        .split(['_', '.', '-'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// `TOGETHER_API_KEY` -> `together[_.-]?api[_.-]?key`, matched case-insensitively, so that
/// `togetherApiKey`, `together.api_key` and `together-api-key` count too.
fn name_pattern(name: &str) -> String {
    let parts: Vec<String> = name
        .split('_')
        .filter(|p| !p.is_empty())
        .map(escape)
        .collect();
    let body = parts.join("[_.-]?");
    if name.split('_').next().unwrap_or_default().len() < DISTINCT_WORD {
        format!("(?:(?m:^)|[^A-Za-z0-9]){body}")
    } else {
        body
    }
}

/// `TOGETHER_API_KEY` -> `together[_-]api[_-]key` for `--together-api-key VALUE`.
fn flag_pattern(name: &str) -> String {
    let parts: Vec<String> = name
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| escape(&p.to_ascii_lowercase()))
        .collect();
    parts.join("[_-]")
}

/// Prefilter keywords of a name: its first word when that is distinctive (`together`), else
/// the whole name with underscores, without them and with dashes (`hf_token`, `hftoken`,
/// `hf-token`).
fn name_keywords(name: &str) -> Vec<String> {
    let lower = name.to_ascii_lowercase();
    let first = lower.split('_').next().unwrap_or_default();
    if first.len() >= DISTINCT_WORD {
        vec![first.to_string()]
    } else {
        vec![
            lower.clone(),
            lower.replace('_', ""),
            lower.replace('_', "-"),
        ]
    }
}

/// An SDK call that takes the credential: `Together(api_key=`, `new OpenAI({apiKey:`, or
/// `AzureKeyCredential(` for a first positional argument; or a module-level settings
/// attribute the SDK documents for it, written with its `=`: `aai.settings.api_key =`,
/// `fireworks.client.api_key =`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SdkArg {
    /// What is called, as written (`wandb.login`).
    pub(crate) call: String,
    /// The keyword argument or object key (`api_key`).
    pub(crate) argument: String,
    /// `=` for keyword arguments, `:` for object keys, `(` for the first positional argument,
    /// `.` for a settings attribute (`call` is then the attribute's whole dotted name).
    pub(crate) operator: char,
}

impl SdkArg {
    pub(crate) fn parse(text: &str) -> Option<SdkArg> {
        if let Some(attribute) = SdkArg::parse_attribute(text) {
            return Some(attribute);
        }
        let (call, rest) = text.split_once('(')?;
        let call = call.trim_start_matches("new ").trim();
        if call.is_empty() {
            return None;
        }
        if rest.is_empty() {
            // `AzureKeyCredential(`: the credential is the first positional argument.
            return Some(SdkArg {
                call: call.to_string(),
                argument: String::new(),
                operator: '(',
            });
        }
        let operator = rest.chars().last().filter(|c| *c == '=' || *c == ':')?;
        let argument = rest[..rest.len() - 1].trim_start_matches(['{', ' ']).trim();
        if argument.is_empty() {
            return None;
        }
        Some(SdkArg {
            call: call.to_string(),
            argument: argument.to_string(),
            operator,
        })
    }

    /// `module.settings.api_key =`: a dotted name (at least one dot, so that a bare variable
    /// name stays a variable) and `=`, no call.
    fn parse_attribute(text: &str) -> Option<SdkArg> {
        let name = text.strip_suffix('=')?.trim();
        let dotted = name.contains('.')
            && name.split('.').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        dotted.then(|| SdkArg {
            call: name.to_string(),
            argument: String::new(),
            operator: '.',
        })
    }

    /// The call, then anything but parentheses up to the argument (it need not come first,
    /// and the call may span lines), then a quoted literal: an unquoted value is a variable.
    /// The gap is unbounded: a bound of 200 multiplied the compiled states (15 MB more peak
    /// memory over a history that compiles the whole catalog, and slower compiles).
    fn pattern(&self) -> String {
        if self.operator == '.' {
            // An assignment, not a comparison (`==`): the value's quote follows the `=`.
            return format!(r#"(?-u:\b){}[ \t]*=[ \t]*["'`]"#, escape(&self.call));
        }
        if self.operator == '(' {
            return format!(r#"(?-u:\b){}\([ \t\r\n]*["'`]"#, escape(&self.call));
        }
        format!(
            r#"(?-u:\b){}\([ \t\r\n]*\{{?(?-u:[^()])*?(?-u:\b){}[ \t]*{}[ \t]*["'`]"#,
            escape(&self.call),
            escape(&self.argument),
            escape(&self.operator.to_string()),
        )
    }

    /// What every match holds, as written: the call with its parenthesis (`wandb.login(`),
    /// or the attribute.
    fn written(&self) -> String {
        match self.operator {
            '.' => self.call.clone(),
            _ => format!("{}(", self.call),
        }
    }

    /// The call lower-cased, with its parenthesis: `wandb.login(`; an attribute lower-cased.
    fn keyword(&self) -> String {
        self.written().to_ascii_lowercase()
    }

    fn example(&self, value: &str) -> String {
        match self.operator {
            '(' => format!("credential = {}(\"{value}\")", self.call),
            '.' => format!("{} = \"{value}\"", self.call),
            ':' => format!(
                "const client = new {}({{ {}: \"{value}\" }});",
                self.call, self.argument
            ),
            _ => format!("client = {}({}=\"{value}\")", self.call, self.argument),
        }
    }
}

/// Positive and negative lines for every name and call, so the rule proves each one.
fn examples(names: &[&str], calls: &[SdkArg]) -> Examples {
    let mut positive = Vec::new();
    let mut negative = Vec::new();
    for name in names {
        let lower = name.to_ascii_lowercase();
        let flag = lower.replace('_', "-");
        positive.extend([
            format!("{name}={{token}}"),
            format!("export {name}=\"{{token}}\""),
            format!("{lower}: {{token}}"),
            format!("{{\"{name}\": \"{{token}}\"}}"),
            format!("os.environ[\"{name}\"] = \"{{token}}\""),
            format!("key = os.getenv(\"{name}\", \"{{token}}\")"),
            format!("python train.py --{flag} {{token}}"),
        ]);
        negative.extend([
            format!("{name}=${{{name}}}"),
            format!("key = os.environ[\"{name}\"]"),
            format!("const key = process.env.{name};"),
            format!("{name}: ${{{{ secrets.{name} }}}}"),
            format!("{name}={{placeholder}}"),
            format!("{name}_FILE=/run/secrets/{lower}_2024"),
            format!("{name}=short12"),
        ]);
    }
    for call in calls {
        positive.push(call.example("{token}"));
        negative.push(call.example("{placeholder}"));
        let reference = "os.environ[\"KEY_2024_ABCDEFGH\"]";
        negative.push(match call.operator {
            '(' => format!("credential = {}({reference})", call.call),
            '.' => format!("{} = {reference}", call.call),
            _ => format!("client = {}({}={reference})", call.call, call.argument),
        });
    }
    Examples {
        // 27 characters: no format rule has that length, so only this rule may claim it.
        shape: "[alnum:27]".to_string(),
        contexts: ContextMode::Own,
        positive,
        negative,
        var: None,
        preamble: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_agrees_with_the_regex_crate() {
        let every_ascii: String = (0x20u8..0x7F).map(char::from).collect();
        assert_eq!(escape(&every_ascii), regex::escape(&every_ascii));
        assert_eq!(escape("genai.configure"), r"genai\.configure");
    }

    #[test]
    fn sdk_arguments_parse() {
        let cases = [
            ("Together(api_key=", Some(("Together", "api_key", '='))),
            ("wandb.login(key=", Some(("wandb.login", "key", '='))),
            ("new OpenAI({apiKey:", Some(("OpenAI", "apiKey", ':'))),
            ("AzureKeyCredential(", Some(("AzureKeyCredential", "", '('))),
            (
                "aai.settings.api_key =",
                Some(("aai.settings.api_key", "", '.')),
            ),
            (
                "fireworks.client.api_key=",
                Some(("fireworks.client.api_key", "", '.')),
            ),
            ("api_key=", None),
            ("api_key =", None),
        ];
        for (text, expected) in cases {
            let parsed = SdkArg::parse(text);
            let parsed = parsed
                .as_ref()
                .map(|a| (a.call.as_str(), a.argument.as_str(), a.operator));
            assert_eq!(parsed, expected, "{text}");
        }
    }

    #[test]
    fn names_become_patterns_and_keywords() {
        assert_eq!(
            name_pattern("TOGETHER_API_KEY"),
            "TOGETHER[_.-]?API[_.-]?KEY"
        );
        assert_eq!(
            name_pattern("HF_TOKEN"),
            "(?:(?m:^)|[^A-Za-z0-9])HF[_.-]?TOKEN"
        );
        assert_eq!(flag_pattern("HF_TOKEN"), "hf[_-]token");
        assert_eq!(name_keywords("TAVILY_API_KEY"), ["tavily"]);
        assert_eq!(
            name_keywords("HF_TOKEN"),
            ["hf_token", "hftoken", "hf-token"]
        );
    }

    #[test]
    fn every_provider_with_names_gets_one_rule() {
        let set = crate::detect::rules::RuleSet::builtin().unwrap();
        for (key, provider) in set.providers.iter() {
            let generated = set.get(&rule_id(key)).is_some();
            let expected = provider.variable_rule && !provider.env_vars.is_empty();
            assert_eq!(generated, expected, "{key}");
        }
    }

    /// Names read from the environment, named in strings and passed on (issue 34's clean
    /// lines) give no generated rule a value to match, so none is compiled; the same names
    /// with a literal assigned, passed as a flag or to an SDK call do.
    #[test]
    fn names_without_a_value_after_them_rule_out_the_regex() {
        let set = crate::detect::rules::RuleSet::builtin().unwrap();
        let rule = |provider: &str| {
            let id = rule_id(provider);
            set.get(&id).unwrap()
        };
        let value = "a1b2c3d4e5f6g7h8i9j0";
        // `may_match` reads the text lowercased, as the scanner hands it over.
        let may_match = |provider: &str, text: &str| {
            rule(provider).may_match(text.to_ascii_lowercase().as_bytes())
        };
        let clean = [
            (
                "huggingface",
                "HF_TOKEN_ENV = \"HF_TOKEN\"\nclient = InferenceClient(token=hf_token)",
            ),
            (
                "anthropic",
                "ANTHROPIC_KEY_VAR = \"ANTHROPIC_API_KEY\"\nllm = Anthropic(api_key=key)",
            ),
            (
                "replicate",
                "api_token = os.environ.get(\"REPLICATE_API_TOKEN\", \"\")",
            ),
            (
                "openai",
                "key = os.environ[\"OPENAI_API_KEY\"]\n# a long comment line after it",
            ),
        ];
        for (provider, text) in clean {
            assert!(!may_match(provider, text), "{text}");
        }
        let with_values = [
            ("huggingface", format!("HF_TOKEN = \"{value}\"")),
            (
                "anthropic",
                format!("llm = Anthropic(\n  api_key=\"{value}\")"),
            ),
            ("replicate", format!("--replicate-api-token {value}")),
            ("openai", format!("x = 1\nopenai_api_key: {value}\n")),
        ];
        for (provider, text) in with_values {
            assert!(may_match(provider, &text), "{text}");
            assert!(rule(provider).regex().is_match(text.as_bytes()), "{text}");
        }
    }
}
