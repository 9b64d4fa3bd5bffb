//! The node registry: which node types exist, their parameters, and how to create them.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::json;

use crate::error::{Error, NodeError, Result};
use crate::node::NodeInstance;
use crate::params::{ParamSpec, Params};

/// What a node type is: its name, aliases, description and parameter schema.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeDescriptor {
    /// The canonical `node_type`.
    pub node_type: String,
    /// Other names accepted for it in manifests.
    pub aliases: Vec<String>,
    /// One line for humans.
    pub description: String,
    /// Declared parameters, in display order.
    pub params: Vec<ParamSpec>,
}

impl NodeDescriptor {
    /// A node type with no parameters yet.
    pub fn new(node_type: &str) -> Self {
        Self {
            node_type: node_type.to_string(),
            aliases: Vec::new(),
            description: String::new(),
            params: Vec::new(),
        }
    }

    /// Adds an alias.
    pub fn alias(mut self, alias: &str) -> Self {
        self.aliases.push(alias.to_string());
        self
    }

    /// Sets the description.
    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    /// Declares a parameter.
    pub fn param(mut self, spec: ParamSpec) -> Self {
        self.params.push(spec);
        self
    }

    /// The declared parameter named `name`.
    pub fn find_param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// This node type as JSON, as `remotemedia-runtime nodes --json` prints it.
    pub fn to_json(&self) -> serde_json::Value {
        let params: serde_json::Map<String, serde_json::Value> = self
            .params
            .iter()
            .map(|p| {
                let mut entry = serde_json::Map::new();
                entry.insert("type".into(), json!(p.kind.type_name()));
                entry.insert("required".into(), json!(p.required));
                entry.insert(
                    "default".into(),
                    p.default
                        .as_ref()
                        .and_then(|d| d.to_json().ok())
                        .unwrap_or(serde_json::Value::Null),
                );
                match &p.kind {
                    crate::params::ParamKind::Choice(c) => {
                        entry.insert("choices".into(), json!(c));
                    }
                    crate::params::ParamKind::Path => {
                        entry.insert("path".into(), json!(true));
                    }
                    _ => {}
                }
                if let Some(m) = p.min {
                    entry.insert("min".into(), json!(m));
                }
                if let Some(m) = p.max {
                    entry.insert("max".into(), json!(m));
                }
                entry.insert("description".into(), json!(p.description));
                (p.name.clone(), serde_json::Value::Object(entry))
            })
            .collect();
        json!({
            "node_type": self.node_type,
            "aliases": self.aliases,
            "description": self.description,
            "params": params,
        })
    }
}

/// Creates node instances from validated parameters.
///
/// Any `Fn(&Params) -> Result<NodeInstance, NodeError>` closure is a factory.
pub trait NodeFactory: Send + Sync {
    /// Creates one fresh instance (each run gets its own, so state never leaks between runs).
    fn create(&self, params: &Params) -> Result<NodeInstance, NodeError>;

    /// Whether instances are synchronous ([`NodeInstance::Sync`]), when known without creating
    /// one. Factories whose instances are costly to create (an interpreter, a live object's
    /// `initialize`) say so, so planning never creates an instance just to look at it.
    fn sync_instances(&self) -> Option<bool> {
        None
    }

    /// Checks params beyond their declared schema (combinations of params, say) while a manifest
    /// is validated, without creating an instance; a [`NodeError::InvalidParams`] becomes a
    /// manifest problem at `nodes[i].params`. The default accepts everything.
    fn check(&self, _params: &Params) -> Result<(), NodeError> {
        Ok(())
    }
}

/// A factory with a params check run at validation (see [`NodeFactory::check`]): `create` makes
/// instances, `check` vets params.
pub struct CheckedFactory<F, C> {
    /// Creates an instance.
    pub create: F,
    /// Checks params without creating anything.
    pub check: C,
}

impl<F, C> NodeFactory for CheckedFactory<F, C>
where
    F: Fn(&Params) -> Result<NodeInstance, NodeError> + Send + Sync,
    C: Fn(&Params) -> Result<(), NodeError> + Send + Sync,
{
    fn create(&self, params: &Params) -> Result<NodeInstance, NodeError> {
        (self.check)(params)?;
        (self.create)(params)
    }

    fn check(&self, params: &Params) -> Result<(), NodeError> {
        (self.check)(params)
    }
}

impl<F> NodeFactory for F
where
    F: Fn(&Params) -> Result<NodeInstance, NodeError> + Send + Sync,
{
    fn create(&self, params: &Params) -> Result<NodeInstance, NodeError> {
        self(params)
    }
}

/// A registered node type.
#[derive(Clone)]
pub struct RegisteredNode {
    /// Its descriptor.
    pub descriptor: Arc<NodeDescriptor>,
    /// How to create it.
    pub factory: Arc<dyn NodeFactory>,
}

/// The set of node types a pipeline may use.
///
/// ```
/// use remotemedia_core::{NodeDescriptor, NodeInstance, Outputs, ParamSpec, Registry, Value, Node, NodeError};
///
/// struct Negate;
/// impl Node for Negate {
///     fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
///         let x = input.as_f64().ok_or_else(|| NodeError::invalid_input("expected a number"))?;
///         out.emit(-x);
///         Ok(())
///     }
/// }
///
/// let mut registry = Registry::new();
/// registry
///     .register(NodeDescriptor::new("NegateNode").describe("negates a number"), |_: &_| {
///         Ok(NodeInstance::sync(Negate))
///     })
///     .unwrap();
/// assert!(registry.get("NegateNode").is_some());
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    nodes: IndexMap<String, RegisteredNode>,
    aliases: HashMap<String, String>,
    python_hosts: Vec<Arc<dyn crate::python::PythonHost>>,
    interpreter_override: Option<crate::python::InterpreterChoice>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a node type. Fails if its name or an alias is already taken.
    pub fn register(
        &mut self,
        descriptor: NodeDescriptor,
        factory: impl NodeFactory + 'static,
    ) -> Result<&mut Self> {
        for name in std::iter::once(&descriptor.node_type).chain(&descriptor.aliases) {
            if self.get(name).is_some() {
                return Err(Error::invalid_value(format!(
                    "node type `{name}` is already registered"
                )));
            }
        }
        for alias in &descriptor.aliases {
            self.aliases.insert(alias.clone(), descriptor.node_type.clone());
        }
        self.nodes.insert(
            descriptor.node_type.clone(),
            RegisteredNode {
                descriptor: Arc::new(descriptor),
                factory: Arc::new(factory),
            },
        );
        Ok(self)
    }

    /// Looks a node type up by name or alias.
    pub fn get(&self, name: &str) -> Option<&RegisteredNode> {
        self.nodes.get(name).or_else(|| {
            self.aliases
                .get(name)
                .and_then(|canonical| self.nodes.get(canonical))
        })
    }

    /// Every registered node type, in registration order.
    pub fn descriptors(&self) -> impl Iterator<Item = &NodeDescriptor> {
        self.nodes.values().map(|n| &*n.descriptor)
    }

    /// Adds an interpreter for Python nodes. With `runtime_hint: auto`, hosts are tried in the
    /// order they were registered.
    pub fn register_python_host(&mut self, host: Arc<dyn crate::python::PythonHost>) -> &mut Self {
        self.python_hosts.push(host);
        self
    }

    /// Sends every Python node to this interpreter choice, whatever its own `runtime_hint` says
    /// (what [`crate::INTERPRETER_ENV`] asks for); `None` leaves each node's hint in force.
    pub fn set_interpreter_override(
        &mut self,
        choice: Option<crate::python::InterpreterChoice>,
    ) -> &mut Self {
        self.interpreter_override = choice;
        self
    }

    /// The interpreter override, if any (see [`Registry::set_interpreter_override`]).
    pub fn interpreter_override(&self) -> Option<crate::python::InterpreterChoice> {
        self.interpreter_override
    }

    /// The registered Python hosts, in order.
    pub fn python_hosts(&self) -> &[Arc<dyn crate::python::PythonHost>] {
        &self.python_hosts
    }

    /// Every accepted name: canonical names and aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().chain(self.aliases.keys()).map(String::as_str)
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.nodes.keys()).finish()
    }
}
