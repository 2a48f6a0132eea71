//! Text search dictionaries and configurations (with their token mappings).

use super::{not_extension_member, ns_filter, split_us, Catalog, Cols, Inspector};
use crate::model::{Object, ObjectKind, TextSearchConfiguration, TextSearchDictionary};
use crate::SchemaError;

impl Inspector {
    pub(super) async fn text_search(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT d.oid::int8, n.nspname::text, d.dictname::text, \
             quote_ident(tn.nspname) || '.' || quote_ident(t.tmplname), d.dictinitoption, \
             pg_get_userbyid(d.dictowner)::text, NULL::text[], NULL::text[] \
             FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace \
             JOIN pg_ts_template t ON t.oid = d.dicttemplate JOIN pg_namespace tn ON tn.oid = t.tmplnamespace \
             WHERE {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_ts_dict", "d.oid"),
        );
        for row in self.fetch("text search dictionaries", &sql).await? {
            let c = Cols::new(&row, "text search dictionaries");
            let id = self.id(ObjectKind::TextSearchDictionary, c.get(1)?, c.get(2)?, "");
            self.oids
                .insert((Catalog::TsDict, c.get(0)?, 0), id.clone());
            let dictionary = TextSearchDictionary {
                template: c.get(3)?,
                options: c.get(4)?,
                meta: self.meta(&c, 5, Catalog::TsDict)?,
            };
            self.insert(id, Object::TextSearchDictionary(Box::new(dictionary)));
        }
        let sql = format!(
            "SELECT c.oid::int8, n.nspname::text, c.cfgname::text, \
             quote_ident(pn.nspname) || '.' || quote_ident(p.prsname), \
             ARRAY(SELECT t.alias || chr(31) || string_agg(quote_ident(dn.nspname) || '.' || quote_ident(d.dictname), \
                          chr(31) ORDER BY m.mapseqno) \
                   FROM pg_ts_config_map m JOIN ts_token_type(c.cfgparser) t ON t.tokid = m.maptokentype \
                   JOIN pg_ts_dict d ON d.oid = m.mapdict JOIN pg_namespace dn ON dn.oid = d.dictnamespace \
                   WHERE m.mapcfg = c.oid GROUP BY t.alias ORDER BY t.alias), \
             pg_get_userbyid(c.cfgowner)::text, NULL::text[], NULL::text[] \
             FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace \
             JOIN pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_namespace pn ON pn.oid = p.prsnamespace \
             WHERE {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_ts_config", "c.oid"),
        );
        for row in self.fetch("text search configurations", &sql).await? {
            let c = Cols::new(&row, "text search configurations");
            let id = self.id(
                ObjectKind::TextSearchConfiguration,
                c.get(1)?,
                c.get(2)?,
                "",
            );
            self.oids
                .insert((Catalog::TsConfig, c.get(0)?, 0), id.clone());
            let mappings = c
                .get::<Vec<String>>(4)?
                .iter()
                .map(|entry| {
                    let mut parts = split_us(entry);
                    let token = parts.remove(0);
                    (token, parts)
                })
                .collect();
            let configuration = TextSearchConfiguration {
                parser: c.get(3)?,
                mappings,
                meta: self.meta(&c, 5, Catalog::TsConfig)?,
            };
            self.insert(id, Object::TextSearchConfiguration(Box::new(configuration)));
        }
        Ok(())
    }
}
